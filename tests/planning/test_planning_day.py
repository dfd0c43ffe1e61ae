"""The infusion day: rate-table totals equal the label's volumes and durations; reactions
managed as the label says; SC observation times [S3][S6][S16][S65]."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ocrelisim.errors import InvalidInputError, InvalidParameterError
from ocrelisim.planning import (
    DayOptions,
    Reaction,
    chair_time_summary,
    chair_times,
    infusion_day,
    rate_steps,
)


@pytest.mark.parametrize(("visit", "volume_ml", "minutes"), [
    ("first", 250.0, 158.0 + 1.0 / 3.0),  # [S3]: 300 mg in 250 mL, derived 2.64 h
    ("maintenance", 500.0, 210.0),  # [S3]: 600 mg in 500 mL, 3.5 h
    ("short", 500.0, 120.0),  # [S65]: 25 + 50 + 125 + 300 mL in 120 min
])
def test_rate_steps_deliver_the_bag_in_the_label_time(visit: str, volume_ml: float,
                                                      minutes: float) -> None:
    steps = rate_steps(visit)  # type: ignore[arg-type]
    assert math.fsum(m * r / 60.0 for m, r in steps) == pytest.approx(volume_ml, abs=1e-9)
    assert math.fsum(m for m, _ in steps) == pytest.approx(minutes, abs=1e-9)
    day = infusion_day(visit)
    assert day.infused_ml == pytest.approx(volume_ml, abs=1e-9)
    assert day.bag_ml == volume_ml and day.concentration_mg_ml == 1.2  # [S3][S5]
    assert day.infusion_minutes == pytest.approx(minutes, abs=1e-9)


def test_label_rates_by_step() -> None:
    assert [r for _, r in rate_steps("first")] == [30.0, 60.0, 90.0, 120.0, 150.0, 180.0]
    assert [r for _, r in rate_steps("maintenance")] == [40.0, 80.0, 120.0, 160.0, 200.0]
    assert rate_steps("short") == ((15.0, 100.0), (15.0, 200.0), (30.0, 250.0), (60.0, 300.0))


def test_site_times_match_the_reported_visits() -> None:
    # [S16]: a standard 600 mg visit 5.5-6 h on site; the shorter infusion brings it to ~4 h
    assert 330.0 <= infusion_day("maintenance").on_site_minutes <= 360.0
    assert infusion_day("short").on_site_minutes == pytest.approx(240.0)


def test_steps_are_contiguous_and_observation_is_one_hour() -> None:
    for visit in ("first", "maintenance", "short", "sc"):
        day = infusion_day(visit)
        assert day.steps[0].start_min == 0.0
        assert all(a.end_min == pytest.approx(b.start_min) for a, b in
                   zip(day.steps, day.steps[1:], strict=False))
        premed = next(s for s in day.steps if s.kind == "premedication")
        assert premed.minutes >= 30.0  # [S3][S6]: at least 30 min before the dose
    obs = [s for s in infusion_day("maintenance").steps if s.kind == "observation"]
    assert obs[0].minutes == 60.0  # [S3]


def test_sc_observation_first_and_later_injections() -> None:
    later = infusion_day("sc")
    first = infusion_day("sc", options=DayOptions(first_injection=True))
    assert later.infusion_minutes == 10.0  # [S6]: about 10 minutes
    assert later.steps[-1].minutes == 15.0 and first.steps[-1].minutes == 60.0  # [S6]
    assert "dexamethasone" in later.steps[2].name


@pytest.mark.parametrize("severity", ["mild", "moderate"])
def test_mild_reaction_halves_the_rate_for_30_min(severity: str) -> None:
    # [S3]: halve the rate at onset, hold >= 30 min, then increase again
    day = infusion_day("maintenance", reaction=Reaction(100.0, severity))  # type: ignore[arg-type]
    rates = [(s.start_min - 60.0, s.rate_ml_h, s.minutes) for s in day.steps
             if s.kind == "infusion"]
    assert (100.0, 80.0, 30.0) in [(round(t, 9), r, round(m, 9)) for t, r, m in rates]
    assert day.infused_ml == pytest.approx(500.0)
    # 30 min at 80 mL/h (40 mL), then the table resumes at 160 mL/h for the 20 min left of
    # that step and 200 mL/h for the remaining 260 mL: 100 + 30 + 20 + 78 min
    assert day.infusion_minutes == pytest.approx(228.0)
    assert day.completed


def test_severe_reaction_pauses_then_restarts_at_half_rate() -> None:
    # [S19b]: stop; after resolution restart at half the rate at onset
    day = infusion_day("short", reaction=Reaction(50.0, "severe", 45.0))
    kinds = [(s.kind, s.rate_ml_h) for s in day.steps if s.kind in ("infusion", "pause")]
    assert kinds[3] == ("pause", 0.0) and kinds[4] == ("infusion", 125.0)
    assert day.infused_ml == pytest.approx(500.0)
    assert day.infusion_minutes > 120.0 + 45.0


def test_life_threatening_reaction_stops_for_good() -> None:
    day = infusion_day("first", reaction=Reaction(50.0, "life-threatening"))  # [S19]
    assert not day.completed
    assert day.infused_ml == pytest.approx(30.0 * 0.5 + 60.0 * 20.0 / 60.0)  # 30, then 60 mL/h


def test_reaction_after_the_infusion_changes_nothing() -> None:
    day = infusion_day("maintenance", reaction=Reaction(300.0, "moderate"))
    assert day.infusion_minutes == pytest.approx(210.0)


def test_chair_time_distribution_follows_the_sampler() -> None:
    def sampler(kind: str, rng: np.random.Generator) -> Reaction | None:
        return Reaction(100.0, "mild") if rng.random() < 0.5 else None

    table = chair_times("maintenance", 200, sampler, rng=3)
    assert set(table["chair_minutes"].round(6)) == {315.0, 333.0}  # 18 min longer with IRR
    s = chair_time_summary(table)
    assert 0.4 < s["share_with_reaction"] < 0.6  # 200 draws at p = 0.5: 2.8 SE
    plain = chair_times("short", 3)
    assert list(plain["chair_minutes"]) == [225.0] * 3


@pytest.mark.parametrize(("call", "error"), [
    (lambda: infusion_day("long"), InvalidInputError),
    (lambda: chair_times("first", 0), InvalidInputError),
    (lambda: Reaction(10.0, "awful"), InvalidInputError),  # type: ignore[arg-type]
    (lambda: Reaction(-1.0, "mild"), InvalidInputError),
    (lambda: DayOptions(premedication_lead_min=10.0), InvalidParameterError),
    (lambda: DayOptions(checks_min=-5.0), InvalidParameterError),
    (lambda: rate_steps("sc"), InvalidInputError),
])
def test_bad_day_input(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(("kind", "visit"), [
    ("first", (1, 300.0, "standard")), ("maintenance", (4, 600.0, "standard")),
    ("short", (4, 600.0, "shorter"))])
def test_managed_duration_agrees_with_the_safety_model(kind: str,
                                                       visit: tuple[int, float, str]) -> None:
    # Two implementations of the label's IRR management [S3][S19][S19b]: the safety model's
    # actual infusion minutes and this day's steps, on the same onsets and severities.
    from ocrelisim.safety import REACTIONS, Visit, sample_infusion_reactions

    number, dose, protocol = visit
    table = sample_infusion_reactions(Visit(number, dose, protocol=protocol),  # type: ignore[arg-type]
                                      4000, np.random.default_rng(11))
    during = table[table["during"] & table["irr"]]
    assert len(during) >= 20
    for row in during.itertuples():
        hold = REACTIONS.severe_hold_minutes.value if row.severity == "severe" else 30.0
        day = infusion_day(kind, reaction=Reaction(row.onset_min, row.severity, hold))
        assert day.infusion_minutes == pytest.approx(row.actual_min, abs=1e-6)
        assert day.completed == row.completed


def test_safety_sampler_draws_reactions_during_infusions() -> None:
    from ocrelisim.planning import safety_sampler

    table = chair_times("first", 400, safety_sampler(), rng=5)
    with_irr = table[table["reaction"] != ""]
    assert 0 < len(with_irr) < 100  # a few % of first visits react during the infusion
    assert (with_irr["chair_minutes"] != 263.0 + 1.0 / 3.0).all()
    assert chair_times("sc", 50, safety_sampler(), rng=5)["reaction"].eq("").all()
