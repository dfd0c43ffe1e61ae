"""Unit tests of ocrelisim.regimens: doses, text form, label rules, solver events, NONMEM records.

Tolerance: exact, or 1e-12 where floating-point sums are involved (STYLE.md section 7).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrelisim.errors import InvalidInputError, RegimenError
from ocrelisim.parameters import MIN_INTERVAL_600, SHORT_INFUSION_DURATION
from ocrelisim.regimens import (
    CMT_CENTRAL,
    CMT_DEPOT,
    EXTENDED_INTERVAL,
    PRESETS,
    Dose,
    IVInfusion,
    NonmemData,
    Regimen,
    SCInjection,
    read_nonmem,
)

LABEL_TEXT = "300 mg IV d0, d14; 600 mg IV q24w x4 from d168"
MG_PER_ML = 1.2  # [S3][S5] final concentration of the diluted infusion
H = 1.0 / 24.0  # one hour, day


def ml_per_h(rate_mg_per_day: float) -> float:
    return rate_mg_per_day / MG_PER_ML / 24.0


def delivered(d: IVInfusion) -> float:
    return math.fsum(dur * r for dur, r in d.steps)


# --- dose classes ------------------------------------------------------------------------------

def test_label_300_mg_follows_the_initial_rate_table() -> None:
    d = IVInfusion.label(0.0, 300.0)
    # [S3]: 250 mL, 30 mL/h +30 every 30 min to 180 mL/h; 225 mL in 2.5 h, then 25 mL at 180.
    assert [round(ml_per_h(r), 9) for _, r in d.steps] == [30, 60, 90, 120, 150, 180]
    assert [dur * 24 for dur, _ in d.steps[:-1]] == pytest.approx([0.5] * 5, abs=1e-12)
    assert abs(d.duration * 24 - (2.5 + 25.0 / 180.0)) <= 1e-12  # 2.64 h
    assert abs(delivered(d) - 300.0) <= 1e-12
    assert d.kind == "label" and d.route == "IV"


def test_label_600_mg_takes_exactly_three_and_a_half_hours() -> None:
    d = IVInfusion.label(168.0, 600.0)
    # [S3]: 500 mL, 40 mL/h +40 every 30 min to 200 mL/h; 200 mL in 2 h, 300 mL in 1.5 h.
    assert [round(ml_per_h(r), 9) for _, r in d.steps] == [40, 80, 120, 160, 200]
    assert abs(d.duration * 24 - 3.5) <= 1e-12
    assert abs(d.end - (168.0 + 3.5 * H)) <= 1e-12
    assert abs(delivered(d) - 600.0) <= 1e-12


def test_label_small_dose_ends_within_the_first_step() -> None:
    d = IVInfusion.label(0.0, 10.0)  # 8.33 mL < 20 mL of the first 30 min at 40 mL/h
    assert len(d.steps) == 1
    assert d.steps[0][1] == 40 * MG_PER_ML * 24
    assert abs(d.duration - 10.0 / (40 * MG_PER_ML * 24)) <= 1e-15


@given(st.floats(min_value=0.01, max_value=5000.0))
def test_label_steps_integrate_to_the_amount(amount: float) -> None:
    d = IVInfusion.label(0.0, amount)
    assert abs(delivered(d) - amount) <= 1e-12 * amount
    assert all(dur > 0 and r > 0 for dur, r in d.steps)
    assert all(dur <= 0.5 * H * (1 + 1e-12) for dur, _ in d.steps[:-1])


def test_short_and_constant_infusions() -> None:
    s = IVInfusion.short(0.0, 600.0)
    assert s.steps == ((SHORT_INFUSION_DURATION.value, 600.0 / SHORT_INFUSION_DURATION.value),)
    assert s.kind == "short" and abs(s.duration - 2 * H) <= 1e-15
    by_duration = IVInfusion.constant(1.0, 600.0, duration=0.125)
    assert by_duration.steps == ((0.125, 4800.0),) and by_duration.kind == "constant"
    by_rate = IVInfusion.constant(1.0, 600.0, rate=4800.0)
    assert by_rate == by_duration and by_rate.end == 1.125


def test_custom_steps_and_sc_injection() -> None:
    d = IVInfusion(2.0, 30.0, ((0.5, 20.0), (0.5, 40.0)))
    assert d.kind == "custom" and d.boundaries() == (2.0, 2.5, 3.0) and d.end == 3.0
    sc = SCInjection(5, 920)
    assert (sc.time, sc.amount, sc.end, sc.duration, sc.kind, sc.route) == (
        5.0, 920.0, 5.0, 0.0, "sc", "SC")
    assert isinstance(sc.time, float) and sc.with_time(7.0) == SCInjection(7.0, 920.0)


@pytest.mark.parametrize("amount", [-600.0, 0.0, math.nan, math.inf, "600", True])
def test_bad_dose_amount(amount: object) -> None:
    for build in (lambda: IVInfusion.label(0.0, amount),  # type: ignore[arg-type]
                  lambda: SCInjection(0.0, amount)):  # type: ignore[arg-type]
        with pytest.raises(RegimenError, match=r"amount = .* mg"):
            build()


@pytest.mark.parametrize("time", [-1.0, math.nan])
def test_bad_dose_time(time: float) -> None:
    with pytest.raises(RegimenError, match=r"time = .* day"):
        SCInjection(time, 920.0)


def test_negative_time_message_names_the_rule() -> None:
    with pytest.raises(RegimenError, match=r"time = -1\.0 day is negative"):
        IVInfusion.label(-1.0, 600.0)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"duration": 0.0}, "duration = 0.0 day must be > 0"),
    ({"duration": -1.0}, "duration = -1.0 day must be > 0"),
    ({"rate": 0.0}, "rate = 0.0 mg/day must be > 0"),
    ({}, "give exactly one of duration"),
    ({"duration": 1.0, "rate": 600.0}, "give exactly one of duration"),
])
def test_bad_constant_infusion(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        IVInfusion.constant(0.0, 600.0, **kwargs)


@pytest.mark.parametrize(("steps", "fragment"), [
    (((0.0, 600.0),), "step duration = 0.0 day must be > 0"),
    (((1.0, -600.0),), "step rate = -600.0 mg/day must be > 0"),
    (((1.0, 500.0),), "deliver 500.0 mg but amount = 600.0 mg"),
    ((), "deliver 0.0 mg"),
    (((1.0,),), "must be \\(duration_day, rate_mg_per_day\\) pairs"),
])
def test_bad_steps(steps: tuple[tuple[float, float], ...], fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        IVInfusion(0.0, 600.0, steps)


def test_regimen_error_is_an_invalid_input_value_error() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        SCInjection(0.0, 0.0)
    assert issubclass(RegimenError, InvalidInputError)


# --- Regimen ----------------------------------------------------------------------------------

def test_regimen_sorts_doses_and_behaves_as_a_sequence() -> None:
    a, b, c = SCInjection(10.0, 920.0), IVInfusion.label(0.0, 300.0), IVInfusion.label(14.0, 300.0)
    r = Regimen((a, c, b))
    assert r.doses == (b, a, c) and list(r) == [b, a, c] and len(r) == 3
    assert r[0] == b and r[-1] == c
    assert r == Regimen((b, a, c)) and hash(r) == hash(Regimen((c, b, a)))
    assert r.end == c.end
    assert Regimen((b,)) + Regimen((c, a)) == r


def test_regimen_end_is_the_last_infusion_end() -> None:
    r = Regimen.parse("600 mg IV d7")
    assert r.end == IVInfusion.label(7.0, 600.0).end


def test_regimen_table() -> None:
    t = Regimen.parse("300 mg IV d0; 920 mg SC d14").table()
    assert list(t.columns) == ["dose", "day", "route", "amount_mg", "kind", "duration_h",
                               "end_day", "n_steps"]
    assert t["route"].tolist() == ["IV", "SC"] and t["n_steps"].tolist() == [6, 0]
    assert abs(t["duration_h"].iloc[0] - (2.5 + 25 / 180)) <= 1e-12


def test_overlapping_infusions() -> None:
    with pytest.raises(RegimenError, match=r"IV infusions overlap: the one starting on day 0\.0"):
        Regimen((IVInfusion.label(0.0, 600.0), IVInfusion.label(0.1, 600.0)))
    with pytest.raises(RegimenError, match="overlap"):
        Regimen.parse("600 mg IV d0, d0")


def test_touching_infusions_and_simultaneous_sc_are_allowed() -> None:
    first = IVInfusion.constant(0.0, 100.0, duration=1.0)
    r = Regimen((first, IVInfusion.label(1.0, 600.0), SCInjection(0.0, 920.0)))
    assert len(r) == 3


def test_empty_or_foreign_regimen() -> None:
    with pytest.raises(RegimenError, match=r"regimen doses = \(\) holds no doses"):
        Regimen(())
    with pytest.raises(RegimenError, match="regimen doses = 600 holds no doses"):
        Regimen(600)  # type: ignore[arg-type]
    with pytest.raises(RegimenError, match="is not an IVInfusion or SCInjection"):
        Regimen((600.0,))  # type: ignore[arg-type]


def test_dose_index_out_of_range() -> None:
    with pytest.raises(RegimenError, match="dose index 6 is out of range for a regimen of 6"):
        Regimen.preset("iv")[6]
    with pytest.raises(RegimenError, match=r"dose index 1\.5 is out of range"):
        Regimen.preset("iv")[1.5]  # type: ignore[index]
    assert Regimen.preset("iv")[-6] == IVInfusion.label(0.0, 300.0)


# --- text form --------------------------------------------------------------------------------

def test_parse_label_regimen() -> None:
    r = Regimen.parse(LABEL_TEXT)
    assert [d.time for d in r] == [0.0, 14.0, 168.0, 336.0, 504.0, 672.0]
    assert [d.amount for d in r] == [300.0, 300.0, 600.0, 600.0, 600.0, 600.0]
    assert all(isinstance(d, IVInfusion) and d.kind == "label" for d in r)


@pytest.mark.parametrize(("text", "want"), [
    ("920 mg SC q24w x4", tuple(SCInjection(t, 920.0) for t in (0.0, 168.0, 336.0, 504.0))),
    ("600 mg IV short q24w x3 from d168",
     tuple(IVInfusion.short(t, 600.0) for t in (168.0, 336.0, 504.0))),
    ("600 mg IV over 2h d0", (IVInfusion.constant(0.0, 600.0, duration=2 / 24),)),
    ("600 mg IV rate 300 mg/h d0", (IVInfusion.constant(0.0, 600.0, rate=7200.0),)),
    ("300 mg IV d0, w2", (IVInfusion.label(0.0, 300.0), IVInfusion.label(14.0, 300.0))),
    ("600 mg IV", (IVInfusion.label(0.0, 600.0),)),
    ("0.6 g iv LABEL q 2 d x 2 from w1",
     (IVInfusion.label(7.0, 600.0), IVInfusion.label(9.0, 600.0))),
    ("600mg IV over 90min d3", (IVInfusion.constant(3.0, 600.0, duration=90 / 1440),)),
    ("600 mg IV over 0.5d d3", (IVInfusion.constant(3.0, 600.0, duration=0.5),)),
    ("60 mg IV rate 1 mg/min d0; 60 mg IV rate 240 mg/d d5",
     (IVInfusion.constant(0.0, 60.0, rate=1440.0), IVInfusion.constant(5.0, 60.0, rate=240.0))),
    ("920 mg SC d1.5e2", (SCInjection(150.0, 920.0),)),
])
def test_parse_examples(text: str, want: tuple[Dose, ...]) -> None:
    assert Regimen.parse(text) == Regimen(want)


def test_two_hour_infusion_is_the_short_infusion() -> None:
    assert Regimen.parse("600 mg IV over 2h d0")[0].kind == "short"


@pytest.mark.parametrize(("text", "want"), [
    (LABEL_TEXT, LABEL_TEXT),
    ("920 mg SC q24w x4", "920 mg SC q24w x4"),
    ("600 mg IV short q24w x3 from d168", "600 mg IV short q24w x3 from d168"),
    ("600 mg IV over 2h d0", "600 mg IV short d0"),
    ("600 mg IV over 3h d0", "600 mg IV over 3h d0"),
    ("100 mg IV rate 7 mg/h d0", "100 mg IV rate 7 mg/h d0"),
    ("300 mg IV d0, w2; 920 mg SC d0, d30", "300 mg IV d0, d14; 920 mg SC d0, d30"),
    ("920 mg SC q10d x3 from d0.5", "920 mg SC q10d x3 from d0.5"),
    ("920 mg SC d0, d1, d2, d10, d20, d30, d40", "920 mg SC q1d x3; 920 mg SC q10d x4 from d10"),
    ("920 mg SC d0, d1, d5, d7", "920 mg SC d0, d1, d5, d7"),
    ("920 mg SC d0, d5, d7, d9, d11", "920 mg SC d0; 920 mg SC q2d x4 from d5"),
    ("920 mg SC d0, d2, d4, d50", "920 mg SC q2d x3; 920 mg SC d50"),
    ("0.1 g SC d0.1", "100 mg SC d0.1"),
])
def test_str_is_canonical_and_round_trips(text: str, want: str) -> None:
    r = Regimen.parse(text)
    assert str(r) == want
    assert Regimen.parse(str(r)) == r


def test_str_without_a_text_form_falls_back_to_repr() -> None:
    r = Regimen((IVInfusion(0.0, 30.0, ((0.5, 20.0), (0.5, 40.0))),))
    assert str(r) == repr(r) and str(r).startswith("Regimen(doses=(IVInfusion(")


def make_dose(kind: str, amount: float, value: float, time: float) -> Dose:
    if kind == "sc":
        return SCInjection(time, amount)
    if kind == "over":
        return IVInfusion.constant(time, amount, duration=value)
    if kind == "rate":
        return IVInfusion.constant(time, amount, rate=amount / value)
    return IVInfusion.label(time, amount) if kind == "label" else IVInfusion.short(time, amount)


@st.composite
def regimens(draw: st.DrawFn) -> Regimen:
    """Regimens built with the Python API: doses >= 1 day apart, infusions shorter than that."""
    doses: list[Dose] = []
    cursor = draw(st.floats(0.0, 100.0))
    for _ in range(draw(st.integers(1, 4))):
        amount = draw(st.floats(0.5, 2000.0))
        kind = draw(st.sampled_from(["label", "short", "over", "rate", "sc"]))
        value = draw(st.floats(1e-3, 0.9))  # infusion duration, day (as rate: amount / value)
        make = partial(make_dose, kind, amount, value)
        if draw(st.booleans()):
            interval = draw(st.one_of(st.integers(1, 52).map(lambda w: 7.0 * w),
                                      st.floats(1.0, 400.0)))
            times = [cursor + k * interval for k in range(draw(st.integers(1, 5)))]
        else:
            gaps = draw(st.lists(st.floats(1.0, 300.0), min_size=1, max_size=3))
            times = [cursor + math.fsum(gaps[:k]) for k in range(len(gaps))]
        doses += [make(t) for t in times]
        cursor = times[-1] + draw(st.floats(1.0, 300.0))
    return Regimen(tuple(doses))


@settings(max_examples=150, deadline=None)
@given(regimens())
def test_str_round_trips_for_generated_regimens(r: Regimen) -> None:
    text = str(r)
    assert not text.startswith("Regimen(")
    assert Regimen.parse(text) == r


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2000), st.sampled_from(["IV", "IV short", "SC"]),
                          st.integers(1, 40), st.integers(1, 6)), min_size=1, max_size=3))
def test_generated_text_round_trips(clauses: list[tuple[int, str, int, int]]) -> None:
    start, parts = 0, []
    for amount, route, weeks, count in clauses:
        parts.append(f"{amount} mg {route} q{weeks}w x{count} from d{start}")
        start += weeks * 7 * count + 1
    r = Regimen.parse("; ".join(parts))
    assert Regimen.parse(str(r)) == r and len(r) == sum(c[3] for c in clauses)


@pytest.mark.parametrize(("text", "fragment"), [
    ("300 mg XV d0", "'300 mg XV d0': unknown route 'XV' at column 8; use IV or SC"),
    ("300 ml IV d0", "unknown unit 'ml' at column 5; use mg or g"),
    ("300 IV d0", "unknown unit 'IV' at column 5"),
    ("-300 mg IV d0", "clause at column 1: amount = -300.0 mg must be > 0"),
    ("0 mg SC d0", "amount = 0.0 mg must be > 0"),
    ("nan mg IV d0", "expected the dose amount \\(a number\\), got 'nan' at column 1"),
    ("300 mg IV d-3", "negative time d-3 at column 12"),
    ("300 mg IV w-1", "negative time w-1 at column 12"),
    ("600 mg IV over 0h d0", "infusion duration 0 is not positive at column 16"),
    ("600 mg IV over -2h d0", "infusion duration -2 is not positive at column 16"),
    ("600 mg IV rate 0 mg/h d0", "infusion rate 0 is not positive at column 16"),
    ("600 mg IV over 2s d0", "unknown duration unit 's' at column 17; use h or min or d"),
    ("600 mg IV rate 2 ml/h d0", "unknown rate unit 'ml/h' at column 18"),
    ("920 mg SC short d0", "infusion option 'short' given for an SC dose at column 11"),
    ("600 mg IV q24m x4", "unknown interval unit 'm' at column 14; use d or w"),
    ("600 mg IV q0w x4", "dosing interval q0 is not positive at column 12"),
    ("600 mg IV q24w", "expected 'x <count>' after the interval, got 'end of text' at column 15"),
    ("600 mg IV q24w x0", "dose count '0' is not a whole number in \\[1, 10000\\] at column 17"),
    ("600 mg IV q24w x2.5", "dose count '2.5' is not a whole number"),
    ("600 mg IV q24w x20000", "dose count '20000'"),
    ("600 mg IV t5", "expected a dose time like d14 or w2, got 't' at column 11"),
    ("600 mg IV d5 d6", "unexpected 'd' at column 14; separate clauses with ';'"),
    ("600 mg IV d5,", "expected a dose time like d14 or w2, got 'end of text' at column 14"),
    ("600 mg IV d5 #", "unexpected character '#' at column 14"),
    ("600 mg IV d0; ", "expected the dose amount \\(a number\\), got 'end of text' at column 15"),
    ("  ", "regimen text '  ' is empty"),
])
def test_parse_errors_name_column_and_token(text: str, fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        Regimen.parse(text)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(RegimenError, match="is empty or not a string"):
        Regimen.parse(600)  # type: ignore[arg-type]


# --- presets and label rules ------------------------------------------------------------------

@pytest.mark.parametrize(("name", "text"), [
    ("iv", LABEL_TEXT),
    ("iv-short", "300 mg IV d0, d14; 600 mg IV short q24w x4 from d168"),
    ("sc", "920 mg SC q24w x5"),
    ("iv-extended", "300 mg IV d0, d14; 600 mg IV q33w x4 from d231"),
])
def test_presets(name: str, text: str) -> None:
    r = Regimen.preset(name)
    assert str(r) == text and Regimen.parse(text) == r and r.check() == []
    assert PRESETS.get(name)


def test_presets_are_all_listed_and_end_together() -> None:
    assert sorted(PRESETS) == ["iv", "iv-extended", "iv-short", "sc"]
    assert Regimen.preset("sc")[-1].time == Regimen.preset("iv")[-1].time == 672.0
    assert EXTENDED_INTERVAL.assumption  # its value is pinned by the iv-extended text above


def test_preset_maintenance_doses() -> None:
    assert len(Regimen.preset("iv", maintenance_doses=0)) == 2
    assert len(Regimen.preset("iv", maintenance_doses=7)) == 9
    assert str(Regimen.preset("sc", 0)) == "920 mg SC d0"


@pytest.mark.parametrize(("name", "n", "fragment"), [
    ("ivx", 4, "unknown preset 'ivx'; use one of iv, iv-short, sc, iv-extended"),
    ("iv", -1, "maintenance_doses = -1 must be a whole number"),
    ("iv", 2.0, "maintenance_doses = 2.0"),
])
def test_bad_preset(name: str, n: int, fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        Regimen.preset(name, n)


def test_five_month_rule_is_flagged() -> None:
    r = Regimen.parse("300 mg IV d0, d14; 600 mg IV d168, d300, d460")
    (violation,) = r.check()
    assert violation.startswith("doses[2] (day 168) and doses[3] (day 300) are 132 days apart")
    assert "at least 152.188 days (5 months) between 600 mg doses [S3][S4]" in violation
    with pytest.raises(RegimenError, match="regimen breaks a label rule: doses\\[2\\]"):
        r.check(strict=True)


def test_five_month_rule_boundary_and_scope() -> None:
    gap = MIN_INTERVAL_600.value
    assert Regimen.parse(f"600 mg IV d0, d{gap!r}").check() == []
    assert len(Regimen.parse(f"600 mg IV d0, d{gap - 0.5!r}").check()) == 1
    assert Regimen.parse("300 mg IV d0, d14; 920 mg SC d30").check() == []


def test_missed_maintenance_dose_resets_the_schedule() -> None:
    r = Regimen.preset("iv").with_missed(2, given_on=180.0)  # due day 168
    assert [d.time for d in r] == [0.0, 14.0, 180.0, 348.0, 516.0, 684.0]
    assert r[2] == IVInfusion.label(180.0, 600.0) and r.check() == []
    assert Regimen.preset("iv").with_delay(2, 12.0) == r


def test_missed_second_starting_dose_gives_next_dose_six_months_later() -> None:
    r = Regimen.preset("iv").with_missed(1, given_on=30.0)
    assert [d.time for d in r] == [0.0, 30.0, 198.0, 366.0, 534.0, 702.0]


def test_missed_first_dose_keeps_the_split_start_two_weeks_apart() -> None:
    r = Regimen.preset("iv").with_delay(0, 5.0)
    assert [d.time for d in r] == [5.0, 19.0, 173.0, 341.0, 509.0, 677.0]


def test_missed_last_sc_dose() -> None:
    r = Regimen.preset("sc", 1).with_missed(-1, 200.0)
    assert r == Regimen.parse("920 mg SC d0, d200")


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda r: r.with_missed(2, 160.0), "given_on = 160.0 day is not after dose 2's scheduled"),
    (lambda r: r.with_missed(2, 168.0), "is not after"),
    (lambda r: r.with_missed(2, -1.0), "given_on = -1.0 day is negative"),
    (lambda r: r.with_missed(9, 200.0), "dose index 9 is out of range"),
    (lambda r: r.with_delay(2, 0.0), "delay = 0.0 day must be > 0"),
    (lambda r: r.with_delay(2, math.nan), "delay = nan day is not a finite number"),
])
def test_bad_missed_or_delayed_dose(call: Callable[[Regimen], Regimen], fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        call(Regimen.preset("iv"))


# --- solver events ----------------------------------------------------------------------------

def test_events_of_a_label_infusion() -> None:
    d = IVInfusion.label(168.0, 600.0)
    ev = Regimen((d,)).events()
    assert len(ev) == 6 and ev.time.tolist() == list(d.boundaries())
    assert np.all(ev.cmt == CMT_CENTRAL) and np.all(ev.bolus == 0.0)
    assert np.cumsum(ev.rate)[:-1].tolist() == [r for _, r in d.steps]
    assert ev.rate[0] == 40 * MG_PER_ML * 24 and ev.rate[-1] == -200 * MG_PER_ML * 24


def net_rate_after_each_infusion(r: Regimen) -> list[float]:
    """Input rate into the central compartment, accumulated row by row as the solver does, at
    each event time after which no infusion runs."""
    ev, u, out = r.events(), 0.0, []
    ivs = [d for d in r if isinstance(d, IVInfusion)]
    for k, (t, c, rate) in enumerate(zip(ev.time, ev.cmt, ev.rate, strict=True)):
        u += rate if c == CMT_CENTRAL else 0.0
        last_at_t = k + 1 == len(ev) or ev.time[k + 1] > t
        if last_at_t and not any(d.time <= t < d.end for d in ivs):
            out.append(u)
    return out


@pytest.mark.parametrize("r", [
    Regimen.preset("iv"), Regimen.preset("iv-short"),
    Regimen((IVInfusion(0.0, 7.0, ((1.0, 3.1), (1.0, 0.7), (1.0, 3.2))),
             IVInfusion.label(3.0, 333.3))),  # touching infusions, non-monotone steps
])
def test_event_rates_return_exactly_to_zero_after_each_infusion(r: Regimen) -> None:
    nets = net_rate_after_each_infusion(r)
    assert len(nets) >= 1 and set(nets) == {0.0}
    for d in r:  # and each infusion's own rows, summed in order
        u = 0.0
        for rate in Regimen((d,)).events().rate:
            u += rate
        assert u == 0.0


def test_touching_infusions_hand_over_the_rate_exactly() -> None:
    first, second = IVInfusion(0.0, 3.8, ((1.0, 3.1), (1.0, 0.7))), IVInfusion.label(2.0, 333.3)
    ev = Regimen((second, first)).events()
    u = 0.0
    for t, rate in zip(ev.time, ev.rate, strict=True):
        u += rate
        if t == 2.0:
            last_at_2 = u
    assert ev.time.tolist().count(2.0) == 2 and last_at_2 == second.steps[0][1]
    assert u == 0.0


@settings(max_examples=50, deadline=None)
@given(regimens())
def test_generated_event_rates_return_to_zero(r: Regimen) -> None:
    assert set(net_rate_after_each_infusion(r)) <= {0.0}
    ev = r.events()
    assert np.all(np.diff(ev.time) >= 0)
    assert abs(ev.bolus.sum() - sum(d.amount for d in r if isinstance(d, SCInjection))) <= 1e-9


def test_events_of_sc_doses_and_breakpoints() -> None:
    r = Regimen.parse("920 mg SC d0; 300 mg IV d0.5")
    ev = r.events()
    assert ev.cmt.tolist() == [CMT_DEPOT] + [CMT_CENTRAL] * 7
    assert ev.bolus.tolist() == [920.0] + [0.0] * 7 and ev.rate[0] == 0.0
    assert ev.cmt.dtype == np.int64 and ev.time.dtype == np.float64
    assert r.breakpoints().tolist() == [0.0, *r[1].boundaries()]  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="read-only"):
        ev.rate[0] = 1.0


# --- NONMEM ------------------------------------------------------------------------------------

def test_to_nonmem_layout() -> None:
    df = Regimen.parse("920 mg SC d0; 600 mg IV short d1").to_nonmem(id=7)
    assert list(df.columns) == ["ID", "TIME", "EVID", "AMT", "RATE", "DUR", "CMT", "II",
                                "ADDL", "SS"]
    assert df["ID"].tolist() == [7, 7] and df["CMT"].tolist() == [1, 2]
    assert df["AMT"].tolist() == [920.0, 600.0] and df["RATE"].tolist() == [0.0, 7200.0]
    assert df["DUR"].tolist() == [0.0, 2 / 24] and df["EVID"].tolist() == [1, 1]
    assert (df[["II", "ADDL", "SS"]] == 0).all().all()


def test_to_nonmem_writes_one_row_per_step_summing_to_the_dose() -> None:
    df = Regimen.parse("300 mg IV d0").to_nonmem()
    assert len(df) == 6 and math.fsum(df["AMT"]) == 300.0
    assert df["TIME"].tolist() == list(IVInfusion.label(0.0, 300.0).boundaries()[:-1])


@pytest.mark.parametrize("r", [*(Regimen.preset(n) for n in PRESETS),
                               Regimen.parse("600 mg IV over 3h d0; 920 mg SC d0, d168"),
                               Regimen.parse("333.3 mg IV d1; 100 mg IV rate 7 mg/h d9")])
def test_nonmem_round_trip(r: Regimen) -> None:
    assert Regimen.from_nonmem(r.to_nonmem()) == r


@settings(max_examples=60, deadline=None)
@given(regimens())
def test_nonmem_round_trip_for_generated_regimens(r: Regimen) -> None:
    assert Regimen.from_nonmem(r.to_nonmem()) == r


def test_nonmem_round_trip_through_csv() -> None:
    r = Regimen.preset("iv")
    buf = io.StringIO()
    r.to_nonmem().to_csv(buf, index=False)
    buf.seek(0)
    assert Regimen.from_nonmem(pd.read_csv(buf, float_precision="round_trip")) == r


def test_from_nonmem_expands_addl_for_stepped_infusions() -> None:
    rows = Regimen.parse("600 mg IV d168").to_nonmem()
    rows["ADDL"], rows["II"] = 3, 168.0
    assert Regimen.from_nonmem(rows) == Regimen.parse("600 mg IV q24w x4 from d168")


def test_from_nonmem_expands_addl_for_sc_and_ignores_other_records() -> None:
    df = pd.DataFrame({"ID": [1, 1, 1], "TIME": [0.0, 0.0, 10.0], "EVID": [2, 1, 0],
                       "AMT": [".", "920", "."], "CMT": [1, 1, 2], "II": [0, 168, 0],
                       "ADDL": [0, 4, 0], "DV": [0.0, 0.0, 55.0]})
    assert Regimen.from_nonmem(df) == Regimen.preset("sc")


@pytest.mark.parametrize(("extra", "want"), [
    ({"RATE": [7200.0]}, IVInfusion.constant(0.0, 600.0, rate=7200.0)),
    ({"DUR": [0.125]}, IVInfusion.constant(0.0, 600.0, duration=0.125)),
    ({"RATE": [-2.0], "DUR": [0.125]}, IVInfusion.constant(0.0, 600.0, duration=0.125)),
    ({"RATE": [np.nan], "DUR": [0.125]}, IVInfusion.constant(0.0, 600.0, duration=0.125)),
    ({"RATE": [4800.0], "DUR": [0.125]}, IVInfusion(0.0, 600.0, ((0.125, 4800.0),))),
])
def test_from_nonmem_reads_rate_or_duration(extra: dict[str, list[float]],
                                            want: IVInfusion) -> None:
    df = pd.DataFrame({"TIME": [0.0], "EVID": [1], "AMT": [600.0], "CMT": [2], **extra})
    assert Regimen.from_nonmem(df) == Regimen((want,))


def test_from_nonmem_accepts_lower_case_columns() -> None:
    df = pd.DataFrame({"time": [0.0], "evid": [1], "amt": [920.0], "cmt": [1], "rate": [0.0]})
    assert Regimen.from_nonmem(df) == Regimen.parse("920 mg SC d0")


def dose_frame(**changes: object) -> pd.DataFrame:
    base: dict[str, object] = {"ID": [1, 1], "TIME": [0.0, 14.0], "EVID": [1, 1],
                               "AMT": [300.0, 300.0], "RATE": [3600.0, 3600.0], "CMT": [2, 2]}
    return pd.DataFrame({**base, **changes})


@pytest.mark.parametrize("column", ["TIME", "EVID", "AMT", "CMT"])
def test_from_nonmem_missing_column(column: str) -> None:
    with pytest.raises(RegimenError, match=f"NONMEM data: missing column '{column}'; required"):
        Regimen.from_nonmem(dose_frame().drop(columns=column))


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"AMT": [300.0, "abc"]}, "column 'AMT' row 1 holds 'abc', not a number"),
    ({"TIME": ["0", "x"]}, "column 'TIME' row 1 holds 'x'"),
    ({"TIME": [0.0, np.nan]}, "column 'TIME' row 1 is missing"),
    ({"EVID": [1, np.nan]}, "column 'EVID' row 1 is missing"),
    ({"TIME": [0.0, -14.0]}, "column 'TIME' row 1 is -14 day, negative"),
    ({"TIME": [14.0, 0.0]}, "TIME decreases at row 1 \\(0 after 14\\)"),
    ({"EVID": [1, 4]}, "column 'EVID' row 1 is 4; only 0 \\(observation\\), 1 \\(dose\\)"),
    ({"AMT": [300.0, -300.0]}, "row 1: AMT = -300.0 mg must be finite and > 0"),
    ({"AMT": [300.0, 0.0]}, "row 1: AMT = 0.0 mg"),
    ({"AMT": [300.0, np.nan]}, "row 1: AMT = nan mg"),
    ({"CMT": [2, 3]}, "row 1: CMT = 3.0: doses go to CMT 1 \\(SC depot\\) or 2"),
    ({"RATE": [3600.0, 0.0]}, "row 1: CMT 2 \\(central\\) dose without RATE or DUR"),
    ({"CMT": [2, 1]}, "row 1: CMT 1 \\(SC depot\\) dose with RATE or DUR > 0"),
    ({"RATE": [3600.0, -1.0]}, "row 1: RATE = -1 is not supported"),
    ({"SS": [0, 1]}, "row 1: SS = 1: steady-state doses are not supported"),
    ({"ADDL": [0, 2]}, "row 1: ADDL = 2, II = 0: ADDL must be a whole number"),
    ({"ADDL": [0, 1.5], "II": [0, 168]}, "ADDL = 1.5"),
    ({"DUR": [0.0, 1.0]}, "row 1: RATE x DUR = 3600.0 mg differs from AMT = 300.0 mg"),
    ({"TIME": [0.0, 0.05]}, "NONMEM data: IV infusions overlap"),
    ({"EVID": [0, 0]}, "NONMEM data: no dose records \\(EVID 1\\)"),
    ({"ID": [1, 2]}, "NONMEM data holds 2 IDs \\(1, 2...\\); from_nonmem reads one subject: "
                     "use read_nonmem"),
])
def test_from_nonmem_bad_records(changes: dict[str, list[object]], fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        Regimen.from_nonmem(dose_frame(**changes))


def test_from_nonmem_rejects_non_frames_and_duplicate_columns() -> None:
    with pytest.raises(RegimenError, match="must be a pandas DataFrame, got dict"):
        Regimen.from_nonmem({"TIME": [0.0]})
    df = dose_frame()
    df["amt"] = 1.0
    with pytest.raises(RegimenError, match="duplicate column names"):
        Regimen.from_nonmem(df)


def multi_subject_frame() -> pd.DataFrame:
    iv = Regimen.preset("iv", 1).to_nonmem(id=101)
    sc = Regimen.preset("sc", 1).to_nonmem(id=102)
    obs = pd.DataFrame({"ID": [101, 102], "TIME": [700.0, 700.0], "EVID": [0, 0],
                        "AMT": [0.0, 0.0], "CMT": [2, 2]})
    df = pd.concat([iv, obs[:1], sc, obs[1:]], ignore_index=True)
    n_iv = len(iv) + 1
    df["WT"] = [np.nan, 70.0] + [71.0] * (n_iv - 2) + [np.nan] * (len(df) - n_iv)
    df["SEX"] = ["F"] * n_iv + [None, "M", "M"]
    return df


def test_read_nonmem_several_subjects_with_locf_covariates() -> None:
    data = read_nonmem(multi_subject_frame())
    assert isinstance(data, NonmemData) and len(data) == 2 and data.ids == (101, 102)
    assert data.regimens == (Regimen.preset("iv", 1), Regimen.preset("sc", 1))
    cov = data.covariates
    assert list(cov.columns) == ["ID", "WT", "SEX"]
    assert cov["ID"].tolist() == [101, 102] and cov["SEX"].tolist() == ["F", "M"]
    assert cov["WT"].iloc[0] == 70.0 and np.isnan(cov["WT"].iloc[1])  # first non-missing
    rec = data.records  # LOCF within ID; nothing carried from ID 101 into ID 102
    assert rec["SEX"].isna().tolist()[-3:] == [True, False, False]
    assert rec["SEX"].tolist()[-2:] == ["M", "M"] and rec["WT"].iloc[-4] == 71.0
    assert rec["WT"].isna().tolist()[-3:] == [True, True, True]
    wt_101 = rec.loc[rec["ID"] == 101, "WT"]
    assert np.isnan(wt_101.iloc[0]) and wt_101.iloc[1:].tolist() == [70.0] + [71.0] * 16


def test_read_nonmem_locf_carries_values_forward_within_an_id_only() -> None:
    df = pd.DataFrame({"ID": [1, 1, 1, 2], "TIME": [0.0, 1.0, 2.0, 0.0], "EVID": [1, 0, 0, 1],
                       "AMT": [920.0, 0, 0, 920.0], "CMT": [1, 1, 1, 1],
                       "WT": [np.nan, 60.0, np.nan, np.nan]})
    data = read_nonmem(df)
    assert data.records["WT"].tolist()[1:3] == [60.0, 60.0]
    assert np.isnan(data.records["WT"].iloc[0]) and np.isnan(data.records["WT"].iloc[3])
    assert data.covariates["WT"].iloc[0] == 60.0


def test_read_nonmem_float_ids_become_integers() -> None:
    df = dose_frame(ID=[1.0, 1.0])
    assert read_nonmem(df).ids == (1,)


@pytest.mark.parametrize(("df", "fragment"), [
    (dose_frame().drop(columns="ID"), "missing column 'ID'"),
    (dose_frame(ID=[1, 2]).pipe(lambda d: pd.concat([d, d.iloc[:1]], ignore_index=True)),
     "the rows of each ID must be contiguous"),
    (dose_frame(ID=[1, 2], AMT=[300.0, -1.0]), "NONMEM data \\(ID 2\\), row 1: AMT = -1.0"),
    (dose_frame(ID=[1, np.nan]), "column 'ID' row 1 is missing"),
])
def test_read_nonmem_bad_records(df: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(RegimenError, match=fragment):
        read_nonmem(df)
