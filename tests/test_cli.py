"""Command line, end to end with CliRunner: exit codes and exact lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ocrelisim import simulate, trials
from ocrelisim._meta import DISCLAIMER
from ocrelisim.errors import InvalidInputError
from ocrelisim.interfaces.cli import app
from ocrelisim.io import read_table
from ocrelisim.population import Population
from ocrelisim.regimens import PRESETS, Regimen
from ocrelisim.reports import cycle_intervals, estimates_table, format_exposure_table

DEMO_SEED = 20240601  # the CLI's default seed

ENV = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


NOTICES = ("compiling the engine", "compiled the engine")
"""Starts of the compile notices (stderr) shown when a run compiles the engine."""


def _invoke(*args: str, notices: bool = False) -> tuple[int, str]:
    """Exit code and output (stdout and stderr interleaved); compile notices, which appear
    only when the Numba cache is cold, are dropped unless ``notices``."""
    result = CliRunner().invoke(app, list(args), env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    lines = result.output.splitlines(keepends=True)
    return result.exit_code, "".join(
        line for line in lines if notices or not line.startswith(NOTICES))


def _lines(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines() if line.strip()]


def _rows(output: str) -> list[list[str]]:
    """Cells of the body rows of every rich table in ``output``."""
    return [[c.strip() for c in line.strip().strip("│").split("│")]
            for line in output.splitlines() if line.startswith("│")]


def _words(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize("command", [
    [], ["demo"], ["simulate"], ["regimen"], ["immune"], ["trial"], ["power"],
    ["safety"], ["safety", "check"], ["safety", "simulate"],
    ["plan"], ["plan", "patient"], ["plan", "day"], ["plan", "clinic"], ["serve"],
    ["forecast"]])
def test_every_help_text_carries_the_disclaimer(command: list[str]) -> None:
    code, out = _invoke(*command, "--help")
    assert code == 0
    assert DISCLAIMER in _words(out)


def test_cli_import_is_light() -> None:
    """The help needs none of the commands' heavy libraries: they load when a command runs.
    (``import ocrelisim`` itself loads numpy, pandas, scipy and numba: not checked here.)"""
    import subprocess
    import sys

    heavy = ("matplotlib", "ortools", "simpy", "icalendar", "fastapi", "uvicorn",
             "statsmodels", "lifelines", "dask")
    code = ("import sys, ocrelisim.interfaces.cli; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ""


def test_version() -> None:
    code, out = _invoke("--version")
    assert code == 0
    assert _lines(out)[0].startswith("ocrelisim ")
    assert _lines(out)[0].endswith(DISCLAIMER)


def test_regimen_preset_prints_doses_steps_and_rules() -> None:
    code, out = _invoke("regimen", "iv", "--maintenance-doses", "2")
    assert code == 0
    lines = _lines(out)
    assert lines[0] == f"iv ({PRESETS['iv']}): {Regimen.preset('iv', maintenance_doses=2)}"
    rows = _rows(out)
    doses = rows[:4]
    assert [r[:6] for r in doses] == [
        ["0", "0", "0", "IV", "300", "label"],
        ["1", "14", "2", "IV", "300", "label"],
        ["2", "168", "24", "IV", "600", "label"],
        ["3", "336", "48", "IV", "600", "label"],
    ]
    steps = rows[4:]
    # Label table [S3]: 600 mg starts at 40 mL/h (48 mg/h at 1.2 mg/mL) and reaches 200 mL/h.
    first_600 = [r for r in steps if r[0] == "2"]
    assert first_600[0] == ["2", "1", "0", "30", "48", "40", "24"]
    assert first_600[-1][5] == "200"
    assert first_600[-1][6] == "600"
    assert lines[-2] == "label rules: no violations found"
    assert lines[-1] == DISCLAIMER


def test_regimen_text_flags_label_rule_violation() -> None:
    code, out = _invoke("regimen", "600 mg IV d0, d100")
    assert code == 0
    warnings = [line for line in _lines(out) if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert "doses[0] (day 0) and doses[1] (day 100)" in warnings[0]
    assert _lines(out)[0] == "regimen: 600 mg IV d0, d100"


def test_regimen_from_nonmem_file_prints_each_id(tmp_path: Path) -> None:
    a, b = Regimen.parse("920 mg SC d0"), Regimen.parse("600 mg IV short d0")
    path = tmp_path / "doses.csv"
    pd.concat([a.to_nonmem(id=7), b.to_nonmem(id=8)]).to_csv(path, index=False)
    code, out = _invoke("regimen", str(path))
    assert code == 0
    headings = [line for line in _lines(out) if line.startswith("ID ")]
    assert headings == [f"ID 7: {a}", f"ID 8: {b}"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["regimen", "600 mg XV d0"], "unknown route 'XV'"),
        (["regimen", "0 mg IV d0"], "0"),
        (["regimen", "nope"], "nope"),
        (["regimen", "missing.csv"], "does not exist"),
        (["simulate", "-r", "iv", "--out", "x.xlsx"], "unknown suffix"),
        (["simulate", "-r", "iv", "--days", "-1", "--out", "x.csv"], "--days = -1.0"),
        (["simulate", "-r", "iv", "--days", "nan", "--out", "x.csv"], "--days = nan"),
        (["simulate", "-r", "iv", "--step", "0", "--out", "x.csv"], "--step = 0.0"),
        (["simulate", "-r", "iv", "--n", "0", "--out", "x.csv"], "empty population"),
        (["simulate", "-r", "iv", "--disease", "ALS", "--out", "x.csv"], "ALS"),
        (["demo", "--n", "0"], "empty population"),
        (["demo", "--days", "inf"], "--days = inf"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _invoke(*args)
    assert code == 2
    lines = _lines(out)
    assert len(lines) == 1, out
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "Traceback" not in out
    assert list(tmp_path.iterdir()) == []


def test_bad_weights_in_population_file_exit_2(tmp_path: Path) -> None:
    pop = tmp_path / "pop.csv"
    pd.DataFrame({"ID": [1, 2], "WT": [70.0, 5.0]}).to_csv(pop, index=False)
    code, out = _invoke("simulate", "-r", "iv", "--population", str(pop),
                        "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert len(_lines(out)) == 1
    assert _lines(out)[0].startswith("error: ")
    assert "WT" in _lines(out)[0]
    assert not (tmp_path / "x.csv").exists()


def test_malformed_nonmem_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "doses.csv"
    pd.DataFrame({"ID": [1], "TIME": [0.0], "EVID": [1], "CMT": [2]}).to_csv(path, index=False)
    code, out = _invoke("simulate", "-r", str(path), "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert len(_lines(out)) == 1
    assert "AMT" in _lines(out)[0]


def test_simulate_writes_long_table(tmp_path: Path) -> None:
    out_path = tmp_path / "sub" / "sim.csv"
    code, out = _invoke("simulate", "-r", "600 mg IV d0", "--n", "3", "--seed", "1",
                        "--days", "28", "--step", "7", "--out", str(out_path))
    assert code == 0, out
    df = read_table(out_path)
    ids = Population.sample(3, seed=1).ids
    assert list(df.columns) == ["ID", "TIME", "C"]
    assert df["ID"].tolist() == np.repeat(np.asarray(ids), 5).tolist()
    assert df["TIME"].tolist() == [0.0, 7.0, 14.0, 21.0, 28.0] * 3
    c = df["C"].to_numpy().reshape(3, 5)
    assert np.all(c[:, 0] == 0.0)
    want = simulate(Regimen.parse("600 mg IV d0"), Population.sample(3, seed=1),
                    [0.0, 7.0, 14.0, 21.0, 28.0]).concentration
    np.testing.assert_allclose(c, want, rtol=1e-12, atol=0)
    lines = _lines(out)
    assert lines[0] == "regimen: 600 mg IV d0"
    assert lines[1] == "population: 3 sampled RMS patients (seed 1)"
    assert f"wrote {out_path} (3 subjects x 5 times)" in lines
    assert lines[-1] == DISCLAIMER
    assert [p.name for p in out_path.parent.iterdir()] == ["sim.csv"]


def test_demo_writes_png_csv_html_and_prints_exposure(tmp_path: Path) -> None:
    out_dir = tmp_path / "demo"
    code, out = _invoke("demo", "--n", "20", "--out", str(out_dir))
    assert code == 0, out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "bcells.png", "concentration.png", "exposure.csv", "repletion.csv", "summary.html"]
    repletion = read_table(out_dir / "repletion.csv")
    assert repletion["Regimen"].tolist() == ["iv", "sc", "iv-short"]
    png = (out_dir / "concentration.png").read_bytes()
    assert png[:8] == PNG_MAGIC
    assert len(png) > 10_000
    html = (out_dir / "summary.html").read_text(encoding="utf-8")
    assert DISCLAIMER in html
    assert "data:image/png;base64," in html

    table = read_table(out_dir / "exposure.csv")
    assert table["REGIMEN"].unique().tolist() == ["iv", "sc", "iv-short"]
    iv = table[table["REGIMEN"] == "iv"]
    assert iv["START"].tolist() == [0.0, 14.0, 168.0, 336.0, 504.0, 672.0]
    assert iv["END"].tolist() == [14.0, 168.0, 336.0, 504.0, 672.0, 730.0]
    sc = table[table["REGIMEN"] == "sc"]
    assert sc["START"].tolist() == [0.0, 168.0, 336.0, 504.0, 672.0]
    # The numbers are the library's: label IV simulated directly for the same 20 patients.
    regimen = Regimen.preset("iv", maintenance_doses=4)
    times = np.unique(np.r_[np.arange(0.0, 731.0), [d.end for d in regimen]])
    ex = simulate(regimen, Population.sample(20, seed=DEMO_SEED), times,
                  intervals=cycle_intervals([d.time for d in regimen], 730.0)).exposure
    for metric, values in (("AUC", ex.auc), ("CMAX", ex.cmax), ("CTROUGH", ex.ctrough)):
        for col, q in (("P05", 5), ("P50", 50), ("P95", 95)):
            np.testing.assert_allclose(iv[f"{metric}_{col}"], np.percentile(values, q, axis=0),
                                       rtol=1e-12, atol=0)

    # The printed table shows exactly the written numbers, one row per regimen and cycle.
    rows = [r for r in _rows(out) if r[0] in ("iv", "sc", "iv-short")]
    want = format_exposure_table(table).to_numpy().tolist()
    assert rows[:len(want)] == want
    assert rows[len(want):] == repletion.astype(str).to_numpy().tolist()
    lines = _lines(out)
    assert lines[0] == f"ocrelisim demo: 20 simulated RMS patients (seed 20240601), 730 days. " \
                       f"{DISCLAIMER}"
    assert lines[-5:] == [f"wrote {out_dir / name}" for name in
                          ("concentration.png", "bcells.png", "exposure.csv", "repletion.csv",
                           "summary.html")]


def test_immune_writes_two_timescale_figure_table_and_html(tmp_path: Path) -> None:
    out_dir = tmp_path / "immune"
    code, out = _invoke("immune", "--n", "40", "--years", "2", "--out", str(out_dir))
    assert code == 0, out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "bcell-return.csv", "bcell-return.png", "immune-table.csv", "immune.png",
        "summary.html"]
    back = read_table(out_dir / "bcell-return.csv")  # B-cell return after stopping
    assert back.columns[0] == "Months after last dose" and len(back) == 6
    png = (out_dir / "immune.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 30_000
    table = read_table(out_dir / "immune-table.csv")
    assert {"B", "IFNG_CD4", "TREG", "IgG"} <= set(table["Variable"])
    assert "Evidence" in table.columns and DISCLAIMER in out.replace("\n", " ")
    # The numbers are the library's: the immune model for the same 40 patients and doses.
    regimen = Regimen.preset("iv", maintenance_doses=4)  # doses up to day 672 < 730.5
    times = np.unique(np.r_[np.arange(0.0, 366.0), np.arange(365.0, 730.5, 7.0), 730.5])
    res = simulate(regimen, Population.sample(40, seed=DEMO_SEED), times, model="immune")
    rows = table.set_index("Variable")
    for name, day in (("B", 14.0), ("TREG", 182.0), ("IgG", 730.5)):
        lo, med, hi = np.percentile(res[name][:, int(np.argmin(np.abs(times - day)))],
                                    [5, 50, 95])
        assert rows.loc[name, f"day {day:g}"] == f"{med:.3g} ({lo:.3g}-{hi:.3g})"
    assert DISCLAIMER in (out_dir / "summary.html").read_text(encoding="utf-8")


def test_immune_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    code, out = _invoke("immune", "--n", "0", "--out", str(tmp_path / "x"))
    assert code == 2 and "Traceback" not in out and "empty population" in out
    code, out = _invoke("immune", "--regimen", "600 mg XY d0", "--out", str(tmp_path / "x"))
    assert code == 2 and "Traceback" not in out and "XY" in out
    code, out = _invoke("immune", "--years", "0", "--out", str(tmp_path / "x"))
    assert code == 2 and _lines(out) == [
        "error: --years = 0.0; give a finite number of years > 0"]
    assert not (tmp_path / "x").exists()


_DESIGN = """
name: small RMS trial
disease: RMS
n: 300
weeks: 48
allocation: [1, 1]
endpoints: [ARR, CDP12]
arms:
  - {name: ocrelizumab, treatment: ocrelizumab, regimen: iv}
  - {name: IFN, treatment: interferon}
"""


def test_trial_writes_report_and_compares_with_published(tmp_path: Path) -> None:
    out_dir = tmp_path / "trial"
    code, out = _invoke("trial", "oratorio", "--replicates", "4", "--workers", "1",
                        "--bank-size", "300", "--out", str(out_dir))
    assert code == 0, out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "infections.csv", "replicates.csv", "report.html", "summary.csv", "trial.png"]
    png = (out_dir / "trial.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 30_000
    rows = {r[0]: r for r in _rows(out)}
    assert set(rows) == {"CDP12", "CDP24", "T25FW", "NHPT12", "NHPT24", "CCDP12"}
    assert rows["CDP12"][2] == "0.76 (0.59-0.98)"                  # published [S13]
    # The model column is the library's: the same trial run directly.
    direct = trials.run_trial(trials.preset("oratorio"), 4, DEMO_SEED, bank_size=300, workers=1)
    est = estimates_table(direct).set_index("Endpoint")
    for endpoint in ("CDP12", "CDP24", "T25FW", "NHPT12", "CCDP12"):
        assert rows[endpoint][1] == est.loc[endpoint, "Ratio, model (2.5-97.5%)"]
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    assert DISCLAIMER in html and "Effect estimates vs published" in html
    assert "Infections by arm" in html and "not modelled" in html  # placebo has no IgG model
    assert DISCLAIMER in _words(out)
    reps = read_table(out_dir / "replicates.csv")
    assert len(reps) == 4 * 6 and set(reps["replicate"]) == {0, 1, 2, 3}


def test_trial_and_power_from_yaml(tmp_path: Path) -> None:
    design = tmp_path / "design.yaml"
    design.write_text(_DESIGN, encoding="utf-8")
    code, out = _invoke("power", str(design), "--sizes", "100,300", "--replicates", "4",
                        "--workers", "1", "--out", str(tmp_path / "power"))
    assert code == 0, out
    curve = read_table(tmp_path / "power" / "power.csv")
    assert sorted(set(curve["n"])) == [100, 300] and set(curve["endpoint"]) == {"ARR", "CDP12"}
    direct = trials.power_curve(trials.TrialDesign.from_yaml(design), [100, 300], 4, DEMO_SEED,
                                workers=1)
    pd.testing.assert_frame_equal(curve, direct, check_dtype=False)
    assert (tmp_path / "power" / "power.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["trial", "opera1", "--replicates", "0"], "--replicates = 0"),
        (["trial", "missing.yaml"], "does not exist"),
        (["trial", "ascleiad"], "unknown trial preset"),
        (["power", "opera1", "--sizes", "10,abc"], "--sizes '10,abc'"),
        (["power", "opera1", "--sizes", "1"], "sample size 1"),
        (["power", "opera1", "--target", "1.5"], "--target = 1.5"),
    ],
)
def test_trial_bad_input_exits_2_with_one_line(args: list[str], needle: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = _invoke(*args)
    assert code == 2 and "Traceback" not in out
    lines = _lines(out)
    assert len(lines) == 1 and needle in lines[0], out
    assert list(tmp_path.iterdir()) == []


def test_bad_design_file_names_the_problem(tmp_path: Path) -> None:
    design = tmp_path / "bad.yaml"
    design.write_text(_DESIGN.replace("allocation: [1, 1]", "allocation: [0.6, 0.6]"),
                      encoding="utf-8")
    code, out = _invoke("trial", str(design), "--out", str(tmp_path / "x"))
    assert code == 2 and "sum to 1.2" in out and not (tmp_path / "x").exists()


def test_compile_notice_is_printed_from_the_engine_log(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """The engine logs compile_start/compile_end on 'ocrelisim.engine'; the CLI prints both
    (on stderr; CliRunner mixes it into the output)."""
    import logging

    from ocrelisim import workflows

    def fake_demo(**_kwargs: object) -> None:
        log = logging.getLogger("ocrelisim.engine")
        log.info("compiling the engine for this machine (model 'immune'), first run only",
                 extra={"event": "compile_start", "model": "immune"})
        log.info("compiled", extra={"event": "compile_end", "model": "immune",
                                    "elapsed_s": 12.34})
        log.info("not a compile record")
        raise InvalidInputError("stop here")

    monkeypatch.setattr(workflows, "demo", fake_demo)
    code, out = _invoke("demo", "--out", str(tmp_path / "x"), notices=True)
    assert code == 2
    assert _lines(out) == [
        "compiling the engine for this machine (model 'immune'), first run only ...",
        "compiled the engine (model 'immune') in 12.3 s",
        "error: stop here"]
    # A second command does not print the notices twice.
    code, out = _invoke("demo", "--out", str(tmp_path / "x"), notices=True)
    assert len(_lines(out)) == 3
