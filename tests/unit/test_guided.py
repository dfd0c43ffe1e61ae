"""Unit tests of ocrelisim.regimens' B-cell-guided redosing rule (issue 14 item 1).

Reference values are worked by hand from the rule: checks at last dose + 7·(earliest +
check_every·k) days; on dates, 5 calendar months between doses [S3][S4][S87].
Tolerance: exact (whole days; the check grid is exact in binary floating point).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrelisim.errors import DesignError, InvalidInputError
from ocrelisim.planning import PlanOptions, plan_patient
from ocrelisim.regimens import GuidedRule, next_guided_date, next_guided_dose
from ocrelisim.regimens._guided import check_days
from ocrelisim.trials import Arm
from ocrelisim.trials._design import GUIDED_DEFAULTS

D = dt.date
DAYS = np.arange(0.0, 401.0)


def test_defaults_are_the_trials_defaults() -> None:
    rule = GuidedRule()
    assert (rule.threshold, rule.check_every, rule.earliest) == (10.0, 4.0, 24.0)
    assert GUIDED_DEFAULTS == {"threshold": 10.0, "check_every": 4.0, "earliest": 24.0}
    arm = Arm("g", "ocrelizumab", "iv", guided={"threshold": 5, "earliest": 20})
    assert arm.guided_rule() == GuidedRule(threshold=5.0, check_every=4.0, earliest=20.0)
    assert Arm("l", "ocrelizumab", "iv").guided_rule() is None


@pytest.mark.parametrize("field", ["threshold", "check_every", "earliest"])
@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, True, "10"])
def test_bad_rule_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field} = "):
        GuidedRule(**{field: value})  # type: ignore[arg-type]


def test_bad_design_values_stay_design_errors() -> None:
    with pytest.raises(DesignError, match="guided check_every"):
        Arm("g", "ocrelizumab", "iv", guided={"check_every": 0})


def test_check_grid() -> None:
    # 10 + 168 = 178, then every 28 days while <= 400
    assert check_days(10.0, 400.0, GuidedRule()).tolist() == [178, 206, 234, 262, 290, 318,
                                                              346, 374]
    assert check_days(10.0, 374.0, GuidedRule()).tolist()[-1] == 374  # end day included
    assert check_days(300.0, 400.0, GuidedRule()).size == 0  # 468 > 400
    half = GuidedRule(check_every=0.5, earliest=1.0)  # 7 + 3.5k, to the end of the grid
    assert check_days(0.0, 20.0, half).tolist() == [7.0, 10.5, 14.0, 17.5]


def test_threshold_reached_exactly_on_a_check() -> None:
    b = np.where(DAYS >= 234.0, 10.0, 9.999)
    assert next_guided_dose(DAYS, b, 10.0, GuidedRule()) == 234.0
    b = np.where(DAYS >= 235.0, 10.0, 9.999)  # a day after the check: the next check
    assert next_guided_dose(DAYS, b, 10.0, GuidedRule()) == 262.0
    b = np.where(DAYS >= 100.0, 50.0, 0.0)  # high before the first check: the first check
    assert next_guided_dose(DAYS, b, 10.0, GuidedRule()) == 178.0


def test_no_crossing_in_the_grid_is_none() -> None:
    assert next_guided_dose(DAYS, np.full(DAYS.size, 9.99), 10.0, GuidedRule()) is None
    assert next_guided_dose(DAYS, np.full(DAYS.size, 99.0), 300.0, GuidedRule()) is None


def test_a_check_reads_the_latest_count_at_or_before_it() -> None:
    weekly = np.arange(0.0, 401.0, 7.0)  # days 0, 7, .., 399; check 234 reads day 231
    b = np.where(weekly >= 231.0, 12.0, 0.0)
    assert next_guided_dose(weekly, b, 10.0, GuidedRule()) == 234.0
    b = np.where(weekly >= 238.0, 12.0, 0.0)  # day 238 is after check 234: check 262
    assert next_guided_dose(weekly, b, 10.0, GuidedRule()) == 262.0


def test_bad_grids() -> None:
    with pytest.raises(InvalidInputError, match="same"):
        next_guided_dose(DAYS, DAYS[:-1], 0.0)
    with pytest.raises(InvalidInputError, match="increasing"):
        next_guided_dose(DAYS[::-1], DAYS, 0.0)
    with pytest.raises(InvalidInputError, match="last_dose_day"):
        next_guided_dose(DAYS, DAYS, math.nan)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), last=st.integers(0, 400),
       threshold=st.floats(0.5, 50.0), every=st.sampled_from([1.0, 2.0, 4.0, 6.0]),
       earliest=st.sampled_from([1.0, 12.0, 24.0, 30.0]))
def test_same_days_as_the_trials_former_inline_rule(seed: int, last: int, threshold: float,
                                                    every: float, earliest: float) -> None:
    # the rule as trials/_run.py wrote it before it moved here (commit 6161eab)
    days = 1008
    times = np.arange(0.0, days + 1.0)
    b = np.cumsum(np.random.default_rng(seed).exponential(0.05, times.size))
    checks = last + 7.0 * (earliest + every * np.arange(0, days // 7 + 1))
    checks = checks[checks <= days]
    due = checks[b[checks.astype(np.int64)] >= threshold]
    former = float(due[0]) if due.size else None
    rule = GuidedRule(threshold=threshold, check_every=every, earliest=earliest)
    assert next_guided_dose(times, b, float(last), rule) == former


def test_dates_five_month_floor() -> None:
    last = D(2025, 1, 20)
    # a crossing 1 June is under 5 months after 20 January: 20 June [S3][S4][S87]
    assert next_guided_date([D(2025, 6, 1)], last) == D(2025, 6, 20)
    assert next_guided_date([D(2025, 8, 1), D(2025, 7, 1)], last) == D(2025, 7, 1)
    # month end in a leap year: 30 September 2023 + 5 months = 29 February 2024
    assert next_guided_date([D(2023, 10, 15)], D(2023, 9, 30)) == D(2024, 2, 29)
    # with a rule checked from week 1: checks 27 Jan + 28k days; first on/after 20 June
    early = GuidedRule(check_every=4.0, earliest=1.0)
    assert next_guided_date([D(2025, 2, 1)], last, early) == D(2025, 7, 14)


def test_dates_on_the_check_grid() -> None:
    last = D(2025, 1, 20)  # checks from 7 July 2025 (168 days), then every 28 days
    assert next_guided_date([D(2025, 8, 1)], last, GuidedRule()) == D(2025, 8, 4)
    assert next_guided_date([D(2025, 8, 4)], last, GuidedRule()) == D(2025, 8, 4)  # on a check
    assert next_guided_date([D(2025, 3, 1)], last, GuidedRule()) == D(2025, 7, 7)
    half = GuidedRule(check_every=0.5, earliest=24.5)  # 171.5 days, rounded up: 172
    assert next_guided_date([D(2025, 3, 1)], last, half) == last + dt.timedelta(days=172)


def test_dates_without_a_crossing_after_the_last_dose_are_none() -> None:
    last = D(2025, 1, 20)
    assert next_guided_date([], last) is None
    assert next_guided_date([D(2025, 1, 20), D(2024, 12, 1)], last, GuidedRule()) is None


def test_planning_uses_the_rule() -> None:
    # second infusion 20 January; crossing 1 August: first check on/after it is 4 August
    plan = plan_patient(D(2025, 1, 6), "iv", options=PlanOptions(maintenance_doses=1),
                        bcell_crossings=[D(2025, 8, 1)], guided_rule=GuidedRule())
    assert [v.date for v in plan.doses][2] == D(2025, 8, 4)
