"""ocrelisim: executable, validated model of ocrelizumab therapy for multiple sclerosis.

For research and education only; not clinical advice.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ocrelisim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
