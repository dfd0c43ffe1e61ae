"""Every test against a published figure says whether that figure was fitted.

Rules, read from the test files' source (no test is run or imported):

- A test function under ``tests/validation`` whose docstring names a dossier key (``[S12]``,
  ``[S13b]``) carries exactly one of the markers ``calibration`` (the figure was used to fit a
  parameter) and ``prediction`` (it was not used in any fit). A test that compares no
  published figure cites its sources in comments, not in its docstring.
- A marked test anywhere under ``tests`` names a key and states ``Source:``, ``Published:``,
  ``Tolerance:`` and ``Fits:`` in its docstring. ``Fits:`` names, for a calibration, the fitted
  parameters in double backticks, each a field of a parameter spec in
  :mod:`ocrelisim.parameters` or :mod:`ocrelisim.safety.parameters`; for a prediction it
  begins with ``none``.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

from ocrelisim import parameters
from ocrelisim.safety import parameters as safety_parameters

TESTS = Path(__file__).parent
ROOT = TESTS.parent
KINDS = ("calibration", "prediction")
KEY = re.compile(r"\[[ST]\d+[a-z]?\]")  # dossier [S..]; trial sources [T..] (TRIAL_SOURCES)
FIELDS = ("Source:", "Published:", "Tolerance:", "Fits:")


@dataclasses.dataclass(frozen=True)
class Found:
    where: str          # file::test
    doc: str
    marks: frozenset[str]


def _mark_name(node: ast.expr) -> str | None:
    """``pytest.mark.X`` or ``pytest.mark.X(...)`` -> ``X``."""
    if isinstance(node, ast.Call):
        node = node.func
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "mark"):
        return node.attr
    return None


def _module_marks(tree: ast.Module) -> set[str]:
    marks: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [
                node.value]
            marks |= {m for v in values if (m := _mark_name(v))}
    return marks


def scan(source: str, name: str) -> list[Found]:
    """Test functions of one file with their docstrings and markers (module-level included)."""
    tree = ast.parse(source)
    module = _module_marks(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test_"):
            marks = module | {m for d in node.decorator_list if (m := _mark_name(d))}
            found.append(Found(f"{name}::{node.name}", ast.get_docstring(node) or "",
                               frozenset(marks)))
    return found


SPEC_MODULES = (parameters, safety_parameters)
"""Modules whose parameter specs (dataclasses of Parameter fields) a calibration may fit."""


def _known_parameters() -> set[str]:
    names: set[str] = set()
    for module in SPEC_MODULES:
        for obj in vars(module).values():
            if (isinstance(obj, type) and dataclasses.is_dataclass(obj)
                    and obj is not parameters.Parameter):
                names |= {f.name for f in dataclasses.fields(obj)}
    return names


def problems(found: Found, validation: bool, known: set[str]) -> list[str]:
    """What is wrong with one test's marking; empty when it follows the rules."""
    kinds = sorted(found.marks & set(KINDS))
    keys = KEY.findall(found.doc)
    if not kinds:
        return [f"{found.where}: names {keys[0]} but is neither calibration nor prediction "
                "(mark it; or, if it compares no published figure, cite the key in a comment "
                "instead of the docstring)"] if validation and keys else []
    if len(kinds) > 1:
        return [f"{found.where}: marked both calibration and prediction"]
    out = [f"{found.where}: docstring lacks {f!r}" for f in FIELDS if f not in found.doc]
    if not keys:
        out.append(f"{found.where}: marked {kinds[0]} but names no source key like [S12]")
    fits = found.doc.split("Fits:", 1)[1] if "Fits:" in found.doc else ""
    fits = fits.split("\n\n", 1)[0]
    if kinds == ["prediction"] and fits and not fits.strip().startswith("none"):
        out.append(f"{found.where}: a prediction's 'Fits:' must begin with 'none'")
    if kinds == ["calibration"] and fits:
        named = re.findall(r"``(\w+)``", fits)
        if not named:
            out.append(f"{found.where}: 'Fits:' names no parameter in double backticks")
        out += [f"{found.where}: 'Fits:' names {n!r}, not a parameter of a spec in "
                f"{', '.join(m.__name__ for m in SPEC_MODULES)}"
                for n in named if n not in known]
    return out


def _all_tests() -> list[tuple[Found, bool]]:
    out = []
    for path in sorted(TESTS.rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        validation = path.is_relative_to(TESTS / "validation")
        out += [(f, validation) for f in scan(path.read_text(encoding="utf-8"), rel)]
    return out


def test_markers_are_registered() -> None:
    with open(ROOT / "pyproject.toml", "rb") as f:
        markers = tomllib.load(f)["tool"]["pytest"]["ini_options"]["markers"]
    assert {m.split(":", 1)[0] for m in markers} >= set(KINDS)


def test_every_published_figure_test_is_calibration_or_prediction() -> None:
    known = _known_parameters()
    tests = _all_tests()
    found = [p for f, validation in tests for p in problems(f, validation, known)]
    assert found == []
    # The scan sees the marked tests (it cannot pass by finding nothing).
    counts = {k: sum(k in f.marks for f, v in tests if v) for k in KINDS}
    assert counts["calibration"] >= 10 and counts["prediction"] >= 8, counts


BAD = '''
import pytest

pytestmark = pytest.mark.slow

def test_unmarked():
    """Source: [S12]"""

@pytest.mark.calibration
@pytest.mark.prediction
def test_both():
    """[S12]"""

@pytest.mark.calibration
def test_unknown_parameter():
    """Source: [S12]
    Published: 1
    Tolerance: 1
    Fits: ``not_a_parameter``
    """

@pytest.mark.prediction
@pytest.mark.xfail(strict=True, reason="r")
def test_prediction_that_fits():
    """Source: [S12]
    Published: 1
    Tolerance: 1
    Fits: ``kout``
    """

@pytest.mark.calibration
def test_good():
    """Source: [S59]
    Published: 72
    Tolerance: 5
    Fits: ``kout`` and ``emax``
    """

def test_no_source():
    """No key here."""
'''


@pytest.mark.parametrize(("test", "message"), [
    ("test_unmarked", "names [S12] but is neither calibration nor prediction"),
    ("test_both", "marked both calibration and prediction"),
    ("test_unknown_parameter", "names 'not_a_parameter', not a parameter"),
    ("test_prediction_that_fits", "a prediction's 'Fits:' must begin with 'none'"),
])
def test_the_check_catches_bad_marking(test: str, message: str) -> None:
    found = {f.where.split("::")[1]: f for f in scan(BAD, "bad.py")}
    assert found[test].marks >= {"slow"}  # module-level marks are seen
    (got,) = problems(found[test], True, _known_parameters())
    assert message in got


def test_the_check_accepts_good_marking() -> None:
    found = {f.where.split("::")[1]: f for f in scan(BAD, "bad.py")}
    known = _known_parameters()
    assert problems(found["test_good"], True, known) == []
    assert problems(found["test_no_source"], True, known) == []
    assert {"kout", "f_sc", "imax_pira", "age_mean"} <= known
    assert {"irr_intercept", "sc_p_local", "si_rr_low_igg", "nsi_rate"} <= known  # safety specs


def test_the_safety_calibrations_are_marked() -> None:
    """The safety model's published-figure tests are seen by the check (not only validation)."""
    marked = [f for f, _ in _all_tests() if f.where.startswith("tests/safety/")
              and f.marks & set(KINDS)]
    kinds = {k: sum(k in f.marks for f in marked) for k in KINDS}
    assert kinds["calibration"] >= 10 and kinds["prediction"] >= 1, kinds
