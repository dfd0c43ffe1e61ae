"""The documentation builds (``mkdocs build --strict``) and stays in step with the code.

The site is built once into a temporary folder (no simulation: the parameter table is
generated from the specs by ``docs/hooks.py``, the validation table is read from the committed
``docs/validation.md``). Checks: every parameter of every spec has a row with its value and
basis; the validation table has a row for every test marked ``calibration`` or
``prediction``; the model pages and the API reference are there.
"""

from __future__ import annotations

import dataclasses
import html
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_markers import _all_tests

from ocrelisim.parameters import Parameter

ROOT = Path(__file__).resolve().parent.parent
SPEC_MODULES = ("ocrelisim.parameters", "ocrelisim.safety.parameters", "ocrelisim.regimens._doses")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def _every_parameter() -> list[tuple[str, Parameter]]:
    """(name, Parameter) for every field of every spec instance and every loose Parameter."""
    found = []
    for mod_name in SPEC_MODULES:
        for name, obj in vars(importlib.import_module(mod_name)).items():
            if name.startswith("_"):
                continue
            if isinstance(obj, Parameter):
                found.append((name, obj))
            elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                found += [(f.name, p) for f in dataclasses.fields(obj)
                          if isinstance(p := getattr(obj, f.name), Parameter)]
    return found


def _rows(page: Path) -> set[tuple[str, ...]]:
    """Table rows of an HTML page as tuples of cell texts."""
    text = page.read_text(encoding="utf-8")
    rows = set()
    for tr in re.findall(r"<tr>(.*?)</tr>", text, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)
        rows.add(tuple(html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells))
    return rows


def test_parameter_table_has_every_spec_parameter(site: Path) -> None:
    rows = {r[:2] + r[5:6] for r in _rows(site / "parameters" / "index.html") if len(r) == 7}
    params = _every_parameter()
    assert len(params) > 130  # the scan finds the specs (PK, immune, disease, safety, ...)
    missing = [(name, p.value) for name, p in params
               if (name, f"{p.value:.6g}", "assumption" if p.assumption else "source")
               not in rows]
    assert missing == []


def test_parameter_table_says_where_the_variability_is(site: Path) -> None:
    rows = {r[0]: r for r in _rows(site / "parameters" / "index.html") if len(r) == 7}
    assert rows["clinf"][4].startswith("omega_clinf = 0.3")
    assert rows["kout"][4].startswith("omega_kout = 0.2")
    assert rows["pira_ppms"][4].startswith("pira_shape = 2")
    assert rows["lln_b"][5] == "assumption" and "[S59]" not in rows["lln_b"][6]


def test_validation_table_covers_every_marked_test(site: Path) -> None:
    table = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    marked = {f.where.split("::")[1] for f, _ in _all_tests()
              if f.marks & {"calibration", "prediction"}}
    assert len(marked) >= 18
    assert sorted(m for m in marked if f"`{m}`" not in table) == []
    assert "## Held-out predictions" in table
    held = table.split("## Held-out predictions", 1)[1].split("\n## ", 1)[0]
    assert held.count("\n| ") - 1 >= 8  # at least eight held-out figures (header excluded)
    assert (site / "validation" / "index.html").is_file()


def test_model_pages_and_api_reference_are_built(site: Path) -> None:
    for page in ("models/pk", "models/immune", "models/disease", "models/safety"):
        text = (site / page / "index.html").read_text(encoding="utf-8")
        assert "arithmatex" in text, page  # the equations are there
        assert "not clinical advice" in text, page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("ocrelisim.simulate.simulate", "ocrelisim.parameters.ImmuneParameters",
                 "ocrelisim.outcomes.simulate_outcomes"):
        assert name in api, name
