"""Atomic writes and table formats (exact values)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ocrelisim.errors import InvalidInputError
from ocrelisim.io import atomic_write, read_table, table_format, write_table


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "ID": np.array([1, 1, 2], dtype=np.int64),
        "TIME": [0.0, 0.1, 1.0 / 3.0],
        "C": [0.0, 123.456789012345678, np.pi * 1e-7],
        "ARM": ["IV", "IV", "SC"],
    })


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_writes_content_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    got = atomic_write(dest, lambda p: p.write_text("hello"))
    assert got == dest
    assert dest.read_text() == "hello"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_respects_umask_not_0600(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    old = os.umask(0o022)
    try:
        atomic_write(dest, lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_atomic_write_failure_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    dest.write_text("old")

    def broken(p: Path) -> None:
        p.write_text("partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(dest, broken)
    assert dest.read_text() == "old"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_replaces_existing_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    atomic_write(dest, lambda p: p.write_text("new"))
    assert dest.read_text() == "new"


def test_atomic_write_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    dest = tmp_path / "missing" / "out.txt"
    with pytest.raises(InvalidInputError, match="does not exist; create it first"):
        atomic_write(dest, lambda p: p.write_text("x"))


def test_atomic_write_to_a_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="is a directory"):
        atomic_write(tmp_path, lambda p: p.write_text("x"))
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.parquet", "parquet"), ("a.csv", "csv"), ("a.CSV.GZ", "csv"), ("dir.x/a.csv", "csv")],
)
def test_table_format_by_suffix(name: str, fmt: str) -> None:
    assert table_format(name) == fmt


@pytest.mark.parametrize("name", ["a.xlsx", "a.json", "a", "a.parquet.bak"])
def test_unknown_suffix_is_an_input_error(name: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"unknown suffix; use one of \.parquet, \.csv"):
        write_table(_table(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["t.parquet", "t.csv", "t.csv.gz"])
def test_table_round_trip_is_exact(name: str, tmp_path: Path) -> None:
    df = _table()
    path = write_table(df, tmp_path / name)
    back = read_table(path)
    assert list(back.columns) == ["ID", "TIME", "C", "ARM"]
    assert back["ID"].tolist() == [1, 1, 2]
    np.testing.assert_array_equal(back["TIME"].to_numpy(), df["TIME"].to_numpy())
    np.testing.assert_array_equal(back["C"].to_numpy(), df["C"].to_numpy())
    assert back["ARM"].tolist() == ["IV", "IV", "SC"]
    assert _leftovers(tmp_path) == []


def test_csv_gz_is_gzip_compressed(tmp_path: Path) -> None:
    path = write_table(_table(), tmp_path / "t.csv.gz")
    assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_forced_format_overrides_suffix(tmp_path: Path) -> None:
    path = write_table(_table(), tmp_path / "t.dat", fmt="csv")
    assert path.read_text().splitlines()[0] == "ID,TIME,C,ARM"


def test_read_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_read_malformed_parquet_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_text("not parquet")
    with pytest.raises(InvalidInputError, match="could not be read as parquet"):
        read_table(path)
