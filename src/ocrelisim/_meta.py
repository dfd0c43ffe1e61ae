"""Package-wide text shared by reports, the CLI and exported data sets."""

from __future__ import annotations

DISCLAIMER = "For research and education only; not clinical advice."
"""Carried by every CLI help text, HTML report and exported data set."""
