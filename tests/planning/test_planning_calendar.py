"""Patient calendar: the label's dose rules on dates (leap years, month ends), missed doses,
history checks, switching, vaccination and contraception windows [S3][S4][S87]."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrelisim.errors import InvalidInputError, RegimenError
from ocrelisim.planning import PastDose, PlanOptions, plan_patient, prior_therapy
from ocrelisim.regimens._calendar import add_months, interval_allowed

D = dt.date


def _doses(plan):  # type: ignore[no-untyped-def]
    return [(v.date, v.dose_mg, v.route) for v in plan.doses]


def test_iv_start_split_dose_then_six_calendar_months() -> None:
    # [S3][S4]: 300 mg day 1 and 2 weeks later; 600 mg 6 months after infusion 1, then every 6
    plan = plan_patient(D(2025, 3, 3), "iv", options=PlanOptions(maintenance_doses=3))
    assert _doses(plan) == [(D(2025, 3, 3), 300.0, "IV"), (D(2025, 3, 17), 300.0, "IV"),
                            (D(2025, 9, 3), 600.0, "IV"), (D(2026, 3, 3), 600.0, "IV"),
                            (D(2026, 9, 3), 600.0, "IV")]
    assert [v.visit for v in plan.doses] == ["first", "first", "maintenance", "maintenance",
                                             "maintenance"]


def test_month_end_and_leap_year_do_not_drift() -> None:
    # 31 Aug + 6 months is the last day of February (29 in a leap year), and the next dose is
    # back on 31 Aug: dates on time count from one base date, not from the clipped date.
    plan = plan_patient(D(2023, 8, 31), "iv", options=PlanOptions(maintenance_doses=4))
    assert [v.date for v in plan.doses][2:] == [D(2024, 2, 29), D(2024, 8, 31),
                                                D(2025, 2, 28), D(2025, 8, 31)]


def test_sc_has_no_split_start_and_24_week_option() -> None:
    # [S6]: 920 mg SC every 6 months, no split starting dose; 24 weeks as an option [S3][S4]
    plan = plan_patient(D(2024, 2, 29), "sc", options=PlanOptions(interval="24 weeks",
                                                                  maintenance_doses=2))
    assert _doses(plan) == [(D(2024, 2, 29), 920.0, "SC"), (D(2024, 8, 15), 920.0, "SC"),
                            (D(2025, 1, 30), 920.0, "SC")]


def test_missed_dose_is_given_on_the_plan_date_and_the_schedule_resets() -> None:
    # [S3][S4]: a missed dose as soon as possible; the next one 6 months after it
    history = [PastDose(D(2024, 1, 10), "IV", 300.0), PastDose(D(2024, 1, 24), "IV", 300.0),
               PastDose(D(2024, 7, 10), "IV", 600.0)]
    plan = plan_patient(D(2025, 3, 1), "iv", history=history,
                        options=PlanOptions(maintenance_doses=2))
    assert [v.date for v in plan.doses] == [D(2025, 3, 1), D(2025, 9, 1)]
    assert "missed" in plan.doses[0].purpose and "2025-01-10" in plan.doses[0].purpose
    assert plan.findings == ()


def test_history_on_time_continues_from_infusion_one() -> None:
    history = [PastDose(D(2025, 1, 31), "IV", 300.0), PastDose(D(2025, 2, 14), "IV", 300.0)]
    plan = plan_patient(D(2025, 3, 1), "iv", history=history,
                        options=PlanOptions(maintenance_doses=1))
    assert [v.date for v in plan.doses] == [D(2025, 7, 31)]  # 6 months after infusion 1


def test_late_second_infusion_resets_the_schedule() -> None:
    history = [PastDose(D(2025, 1, 6), "IV", 300.0)]
    plan = plan_patient(D(2025, 2, 10), "iv", history=history,
                        options=PlanOptions(maintenance_doses=1))
    assert [v.date for v in plan.doses] == [D(2025, 2, 10), D(2025, 8, 10)]


def test_doses_closer_than_five_months_are_flagged_with_rule_and_source() -> None:
    history = [PastDose(D(2024, 1, 10), "IV", 300.0), PastDose(D(2024, 1, 24), "IV", 300.0),
               PastDose(D(2024, 5, 1), "IV", 600.0)]
    plan = plan_patient(D(2024, 6, 1), "iv", history=history)
    (finding,) = plan.findings
    assert finding.rule == "min-interval-5-months"
    assert finding.source == "[S3][S4][S87]"
    assert "2024-06-24" in finding.message  # earliest allowed: 24 Jan + 5 months
    # the next dose keeps the 5-month rule from the early dose
    assert plan.doses[0].date >= add_months(D(2024, 5, 1), 5)


def test_second_infusion_before_two_weeks_is_flagged() -> None:
    history = [PastDose(D(2024, 1, 10), "IV", 300.0), PastDose(D(2024, 1, 20), "IV", 300.0)]
    plan = plan_patient(D(2024, 2, 1), "iv", history=history)
    assert [f.rule for f in plan.findings] == ["second-infusion-14-days"]


@pytest.mark.parametrize(("history", "match"), [
    ([PastDose(D(2025, 5, 1), "IV", 600.0)], "after the plan date"),
    ([PastDose(D(2024, 5, 1), "IV", 450.0)], "not a label dose"),
    ([PastDose(D(2024, 5, 1), "IM", 600.0)], "use IV or SC"),
    ([PastDose(D(2024, 5, 1), "IV", 600.0), PastDose(D(2024, 5, 1), "IV", 600.0)], "twice|two"),
])
def test_impossible_history_is_an_error(history: list[PastDose], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        plan_patient(D(2025, 1, 1), "iv", history=history)


def test_not_a_label_dose_is_a_regimen_error() -> None:
    with pytest.raises(RegimenError):
        plan_patient(D(2025, 1, 1), "iv", history=[PastDose(D(2024, 5, 1), "SC", 600.0)])


def test_natalizumab_switch_proposes_start_after_one_month_with_evidence() -> None:
    # [S82]: 1-month washout; [S54]: relapse 0% < 30 d, 11.1% 30-44 d, 16.1% > 45 d
    plan = plan_patient(None, "iv", prior="Tysabri", prior_last_dose=D(2025, 1, 15))
    assert plan.switch is not None
    assert plan.switch.start == D(2025, 2, 15) and plan.doses[0].date == D(2025, 2, 15)
    assert plan.switch.gap_days == 31
    assert plan.switch.risk is not None and "11.1%" in plan.switch.risk
    assert plan.findings == ()


def test_start_outside_the_switch_window_warns() -> None:
    plan = plan_patient(D(2025, 4, 1), "iv", prior="natalizumab",
                        prior_last_dose=D(2025, 1, 15))
    assert [f.rule for f in plan.findings] == ["switch-window"]
    assert plan.switch is not None and "16.1%" in (plan.switch.risk or "")


def test_fingolimod_gap_uses_msbase_bands() -> None:
    plan = plan_patient(D(2025, 6, 1), "iv", prior="fingolimod", prior_last_dose=D(2025, 1, 1))
    assert plan.switch is not None and "0.71" in (plan.switch.risk or "")  # 4-6 months [S80]


def test_interferon_starts_the_next_day() -> None:
    plan = plan_patient(None, "sc", prior="interferon beta", prior_last_dose=D(2025, 1, 1))
    assert plan.doses[0].date == D(2025, 1, 2)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"prior": "rituximab", "prior_last_dose": D(2025, 1, 1)}, "not one the plan has"),
    ({"prior": "alemtuzumab", "prior_last_dose": D(2025, 1, 1)}, "no fixed interval"),
    ({"prior": "natalizumab"}, "last dose"),
    ({"prior_last_dose": D(2025, 1, 1)}, "without a prior therapy"),
    ({}, "start is missing"),
])
def test_switch_input_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        plan_patient(None, "iv", **kwargs)  # type: ignore[arg-type]


def test_unknown_route_and_zone_are_errors() -> None:
    with pytest.raises(InvalidInputError, match="route"):
        plan_patient(D(2025, 1, 1), "im")
    with pytest.raises(InvalidInputError, match="IANA"):
        plan_patient(D(2025, 1, 1), "iv", tz="Mars/Olympus")


def test_vaccination_windows_and_contraception_by_label() -> None:
    us = plan_patient(D(2025, 3, 31), "iv", options=PlanOptions(maintenance_doses=1))
    vac = {v.title: v for v in us.visits if v.kind == "vaccination"}
    live = vac["Vaccination window: live or live-attenuated vaccines"]
    assert live.end == D(2025, 3, 3)  # 4 weeks before the start [S20b][S4]
    assert vac["Vaccination window: non-live vaccines"].end == D(2025, 3, 17)  # 2 weeks
    (contra,) = [v for v in us.visits if v.kind == "contraception"]
    assert contra.date == D(2026, 3, 30)  # last dose 30 Sep 2025 + 6 months [S19]
    eu = plan_patient(D(2025, 3, 31), "iv", options=PlanOptions(maintenance_doses=1,
                                                                label="EU"))
    (contra,) = [v for v in eu.visits if v.kind == "contraception"]
    assert contra.date == D(2026, 9, 30)  # + 12 months [S66][S68]
    (window,) = [v for v in eu.visits if v.kind == "vaccination"]
    assert window.end == D(2025, 2, 17)  # any vaccine >= 6 weeks before [S66]


def test_screening_before_start_and_tests_before_each_maintenance_dose() -> None:
    plan = plan_patient(D(2025, 3, 31), "iv", options=PlanOptions(maintenance_doses=2))
    screening = [v for v in plan.visits if v.kind == "screening"]
    assert [v.date for v in screening] == [D(2025, 2, 3)]
    assert "HBsAg" in screening[0].purpose and "immunoglobulins" in screening[0].purpose
    tests = [v.date for v in plan.visits if v.kind == "tests"]
    assert tests == [D(2025, 9, 23), D(2026, 3, 24)]


def test_bcell_guided_hook_moves_doses_but_never_before_five_months() -> None:
    crossings = [D(2025, 6, 1), D(2026, 1, 20)]
    plan = plan_patient(D(2025, 1, 6), "iv", options=PlanOptions(maintenance_doses=3),
                        bcell_crossings=crossings)
    dates = [v.date for v in plan.doses]
    assert dates[2] == D(2025, 6, 20)  # crossing 1 Jun is < 5 months after 20 Jan: 20 Jun
    assert dates[3] == D(2026, 1, 20)  # the crossing itself
    assert dates[4] == D(2026, 7, 20)  # no crossing left: label interval, noted
    assert [f.rule for f in plan.findings] == ["bcell-guided"]


def test_shorter_infusion_not_after_a_serious_reaction() -> None:
    history = [PastDose(D(2024, 1, 10), "IV", 300.0, "severe")]
    plan = plan_patient(D(2024, 1, 24), "iv", history=history,
                        options=PlanOptions(shorter_infusion=True, maintenance_doses=1))
    assert "short-infusion-no-serious-irr" in [f.rule for f in plan.findings]
    assert plan.doses[-1].visit == "maintenance"


def test_prior_therapy_names_are_normalised() -> None:
    assert prior_therapy("Glatiramer_Acetate").name == "glatiramer acetate"
    assert prior_therapy(" GILENYA ").name == "fingolimod"


@settings(max_examples=60, deadline=None)
@given(start=st.dates(D(1990, 1, 1), D(2090, 12, 31)), route=st.sampled_from(["iv", "sc"]),
       interval=st.sampled_from(["6 months", "24 weeks"]))
def test_every_plan_keeps_the_label_spacing(start: dt.date, route: str, interval: str) -> None:
    plan = plan_patient(start, route, options=PlanOptions(interval=interval,  # type: ignore[arg-type]
                                                          maintenance_doses=6))
    dates = [v.date for v in plan.doses]
    big = [v.date for v in plan.doses if v.dose_mg != 300.0]
    assert dates[0] == start
    if route == "iv":
        assert dates[1] - dates[0] == dt.timedelta(days=14)
    assert all(interval_allowed(a, b) for a, b in itertools.pairwise(big))
    assert all(b > a for a, b in itertools.pairwise(dates))
    if interval == "6 months":  # on time: every dose on the start's day of month or month end
        assert all(d.day == min(start.day, (add_months(d.replace(day=1), 1)
                                            - dt.timedelta(days=1)).day) for d in big[1:])
