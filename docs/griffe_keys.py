"""Griffe extension for the API reference: dossier keys such as ``[S3][S4]`` in docstrings
are source citations, not Markdown reference links; escape their brackets."""

from __future__ import annotations

import re
from typing import Any

import griffe

SOURCE_KEY = re.compile(r"(?<!\\)\[([ST]\d+[a-z]?)\]")


class EscapeSourceKeys(griffe.Extension):
    """Escape ``[Sx]`` in every docstring once the object is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = SOURCE_KEY.sub(r"\\[\1\\]", obj.docstring.value)
