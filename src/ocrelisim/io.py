"""File formats and atomic writes.

Every file ocrelisim writes goes through :func:`atomic_write`: the content is written to a
temporary file in the destination directory, flushed to disk, then renamed over the destination
(:func:`os.replace`, atomic on POSIX and Windows). A reader therefore sees either the old file or
the complete new one, never a partial write, and a failed write leaves the old file untouched.

Tables are chosen by file suffix: ``.parquet`` (Apache Parquet via pyarrow), ``.csv`` and
``.csv.gz`` (comma-separated, gzip-compressed for ``.gz``). Structured input files (a patient
record, a dosing history) are read by :func:`read_structured`: JSON for ``.json``, YAML otherwise.
pandas is imported by the table functions only, so reading a record stays light.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

TableFormat = Literal["parquet", "csv"]

_SUFFIXES = (".parquet", ".csv", ".csv.gz")


def _fsync_file(path: Path) -> None:
    """Flush a written file's content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry (the rename) to disk where the platform allows it."""
    if os.name != "posix":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], writer: Callable[[Path], object]) -> Path:
    """Write a file atomically: temporary file in the same directory, fsync, then rename.

    Parameters
    ----------
    path : str or path-like
        Destination file. Its directory must exist.
    writer : callable
        Called once with the temporary file's path (an existing, empty file); must write the
        complete content there. Its return value is ignored.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    InvalidInputError
        If the destination directory does not exist or the destination is a directory.
    Exception
        Whatever ``writer`` raises; the temporary file is removed first and an existing file
        at ``path`` is left unchanged.
    """
    dest = Path(path)
    parent = dest.parent
    if not parent.is_dir():
        raise InvalidInputError(
            f"output path {str(dest)!r}: directory {str(parent)!r} does not exist; "
            f"create it first or choose an existing directory"
        )
    if dest.is_dir():
        raise InvalidInputError(
            f"output path {str(dest)!r} is a directory; pass a file name such as "
            f"{str(dest / 'result.parquet')!r}"
        )
    tmp = parent / f".{dest.name}.{secrets.token_hex(6)}.tmp"
    # O_EXCL: never reuse someone else's file; mode 0o666 lets the umask decide permissions,
    # as for any newly created file (mkstemp would force 0o600).
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        writer(tmp)
        _fsync_file(tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(parent)
    return dest


def table_format(path: str | os.PathLike[str]) -> TableFormat:
    """The table format implied by a file name (``.parquet``, ``.csv`` or ``.csv.gz``).

    Raises
    ------
    InvalidInputError
        For any other suffix.
    """
    name = Path(path).name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise InvalidInputError(
        f"table file {str(path)!r}: unknown suffix; use one of {', '.join(_SUFFIXES)}"
    )


def _compression(path: Path) -> Literal["gzip"] | None:
    return "gzip" if path.name.lower().endswith(".gz") else None


def write_table(
    df: pd.DataFrame, path: str | os.PathLike[str], *, fmt: TableFormat | None = None
) -> Path:
    """Write a table atomically, as Parquet or CSV.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its index is not written. ``df.attrs`` (e.g. units, disclaimer) are kept
        in Parquet metadata.
    path : str or path-like
        Destination; the suffix picks the format unless ``fmt`` is given: ``.parquet``,
        ``.csv`` or ``.csv.gz`` (gzip).
    fmt : {"parquet", "csv"}, optional
        Force a format regardless of the suffix.

    Returns
    -------
    pathlib.Path
        The destination path.

    Raises
    ------
    InvalidInputError
        Unknown suffix or format, or a missing destination directory.
    """
    dest = Path(path)
    kind = table_format(dest) if fmt is None else fmt
    if kind == "parquet":
        return atomic_write(dest, lambda tmp: df.to_parquet(tmp, index=False))
    if kind == "csv":
        compression = _compression(dest)
        return atomic_write(
            dest, lambda tmp: df.to_csv(tmp, index=False, compression=compression)
        )
    raise InvalidInputError(f"table format {kind!r} is not supported; use 'parquet' or 'csv'")


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (or any Parquet/CSV table).

    Parameters
    ----------
    path : str or path-like
        A ``.parquet``, ``.csv`` or ``.csv.gz`` file.

    Returns
    -------
    pandas.DataFrame
        Floats written by :func:`write_table` come back exactly (pandas writes the shortest
        round-trip repr and, from pandas 3, parses with round-trip precision).

    Raises
    ------
    InvalidInputError
        If the file does not exist, has an unknown suffix, or cannot be parsed.
    """
    import pandas as pd

    src = Path(path)
    kind = table_format(src)
    if not src.is_file():
        raise InvalidInputError(
            f"table file {str(src)!r} does not exist; check the path and the working directory"
        )
    try:
        if kind == "parquet":
            return pd.read_parquet(src)
        # round_trip: pandas 2.x parses floats with a fast, inexact routine by default
        return pd.read_csv(src, compression=_compression(src), float_precision="round_trip")
    except (ValueError, OSError) as exc:
        raise InvalidInputError(
            f"table file {str(src)!r} could not be read as {kind}: {exc}; "
            f"check that the file is a valid {kind} table"
        ) from exc


def read_structured(path: str | os.PathLike[str], what: str) -> object:
    """The content of a JSON (``.json``) or YAML (any other suffix) file, parsed.

    Parameters
    ----------
    path : str or path-like
        The file.
    what : str
        What the file is, for messages (e.g. ``"patient file"``).

    Returns
    -------
    object
        Whatever the file holds (mapping, list, scalar or None); the caller validates it.

    Raises
    ------
    InvalidInputError
        If the file cannot be read or is not valid JSON/YAML; the message names ``what``, the
        path and the problem (the parser's message, on one line, at most 200 characters).
    """
    import yaml

    src = Path(path)
    try:
        text = src.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InvalidInputError(f"{what} {str(src)!r} cannot be read ({why})") from None
    is_json = src.suffix.lower() == ".json"
    try:
        return json.loads(text) if is_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = " ".join(str(exc).split())[:200]
        raise InvalidInputError(f"{what} {str(src)!r} is not valid "
                                f"{'JSON' if is_json else 'YAML'}: {first}") from None
