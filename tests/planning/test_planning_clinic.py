"""Clinic capacity: DES invariants, the optimised schedule never worse than first-come on the
same instance, deterministic CP-SAT, conflicts in plain words, bad input."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

from ocrelisim.errors import InvalidInputError, InvalidParameterError
from ocrelisim.planning import (
    ClinicOptions,
    Reaction,
    Request,
    compare_schedules,
    draws_for,
    explain_unfit,
    first_come,
    optimise,
    parse_mix,
    phases,
    plan_objective,
    requests_for,
    scenarios,
    schedule_violations,
    simulate_day,
)

EFFORT = 0.2  # small deterministic CP-SAT budget: fast tests
MIX = {"first": 0.2, "maintenance": 0.4, "short": 0.2, "sc": 0.2}


def sampler(kind: str, rng: np.random.Generator) -> Reaction | None:
    """Test sampler: a reaction in 40% of IV visits (not a calibrated model)."""
    if rng.random() < 0.4:
        sev = ("mild", "moderate", "severe", "life-threatening")[int(rng.integers(4))]
        return Reaction(float(rng.uniform(0.0, 150.0)), sev, float(rng.uniform(10.0, 60.0)))
    return None


def _overlaps(intervals: list[tuple[float, float]]) -> bool:
    s = sorted(intervals)
    return any(b[0] < a[1] - 1e-9 for a, b in itertools.pairwise(s))


def _max_concurrent(intervals: list[tuple[float, float]]) -> int:
    ev = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    level = peak = 0
    for _, d in ev:
        level += d
        peak = max(peak, level)
    return peak


def test_phases_come_from_the_label_tables() -> None:
    p = phases("maintenance")
    assert (p.checks, p.premed, p.dose, p.observation) == (15, 30, 210, 60)  # [S3]
    assert phases("short").dose == 120 and phases("first").dose == 159  # 158.3 min up
    assert phases("sc").dose == 10 and phases("sc").observation == 15  # [S6]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_des_invariants_hold(seed: int) -> None:
    opt = ClinicOptions(chairs=3, nurses=1, infusions_per_nurse=2)
    reqs = requests_for(10, MIX, np.random.default_rng(seed))
    sched = first_come(reqs, opt)
    log = simulate_day(reqs, sched, opt, draws_for(reqs, 0, seed, sampler, opt))
    by_chair = defaultdict(list)
    for chair, s, e, _ in log.chairs:
        by_chair[chair].append((s, e))
    assert set(by_chair) <= set(range(opt.chairs))
    assert not any(_overlaps(v) for v in by_chair.values())  # no chair double-booked
    by_nurse = defaultdict(list)
    for nurse, s, e, _ in log.nurse_tasks:
        by_nurse[nurse].append((s, e))
    assert not any(_overlaps(v) for v in by_nurse.values())  # one task at a time per nurse
    watched = defaultdict(list)
    for nurse, s, e, _ in log.watches:
        watched[nurse].append((s, e))
    assert all(_max_concurrent(v) <= opt.infusions_per_nurse for v in watched.values())
    v = log.visits
    assert sorted(v["id"]) == [r.id for r in reqs]  # everyone accounted for
    assert ((v["finished"] & v["end"].notna()) | (~v["finished"] & v["end"].isna())).all()
    booked = v[v["booked"]]
    assert (booked["seated"].dropna() >= booked.loc[booked["seated"].notna(),
                                                    "planned_seat"]).all()
    done = v[v["finished"]]
    assert len(done) == len(log.chairs)
    # a visit sits at least its nominal chair time unless a life-threatening reaction stopped
    # the infusion for good [S19]
    nominal = {k: phases(k).chair for k in MIX}
    row = v.set_index("id")
    assert all(e - s >= nominal[row.loc[pid, "visit"]] - 1.0 for _, s, e, pid in log.chairs
               if row.loc[pid, "reaction"] != "life-threatening")


def test_unseated_patients_are_reported_unfinished() -> None:
    opt = ClinicOptions(chairs=1, nurses=1, closes=8 * 60 + 240, max_overtime=120)
    reqs = [Request(0, "maintenance"), Request(1, "sc")]
    sched = first_come(reqs, opt)
    assert sched.seats == {0: 0, 1: 315} or sched.seats == {0: 0}
    from ocrelisim.planning import Schedule
    forced = Schedule("test", {0: 0, 1: 0}, ())  # both booked at opening on one chair
    log = simulate_day(reqs, forced, opt, draws_for(reqs, 0, 0, None, opt))
    v = log.visits.set_index("id")
    assert bool(v.loc[0, "finished"]) and not bool(v.loc[1, "finished"])
    assert v.loc[1, "waiting"] == opt.day_minutes  # waited until closing, went home


@pytest.mark.parametrize(("seed", "n", "chairs", "nurses"), [(0, 8, 2, 1), (1, 12, 3, 1),
                                                            (2, 10, 4, 2)])
def test_optimised_never_worse_than_first_come(seed: int, n: int, chairs: int,
                                               nurses: int) -> None:
    opt = ClinicOptions(chairs=chairs, nurses=nurses, infusions_per_nurse=2)
    reqs = requests_for(n, MIX, np.random.default_rng(seed))
    base = first_come(reqs, opt)
    best = optimise(reqs, opt, effort=EFFORT, seed=seed, baseline=base)
    assert schedule_violations(reqs, base, opt) == []
    assert schedule_violations(reqs, best, opt) == []
    b, o = plan_objective(reqs, base, opt), plan_objective(reqs, best, opt)
    assert (-o[0], o[1], o[2]) <= (-b[0], b[1], b[2])


def test_compare_is_never_worse_in_simulation_and_repeats() -> None:
    opt = ClinicOptions(chairs=3, nurses=1, infusions_per_nurse=3)
    kw = dict(days=2, patients_per_day=9, mix=MIX, seed=5, sampler=sampler, effort=EFFORT)
    c1 = compare_schedules(opt, **kw)  # type: ignore[arg-type]
    c2 = compare_schedules(opt, **kw)  # type: ignore[arg-type]
    for day in range(2):
        base, best = [o for o in c1.outcomes if o.day == day]
        assert (base.method, best.method) == ("first-come", "optimised")
        assert (-best.sim[0], best.sim[1], best.sim[2]) <= (-base.sim[0], base.sim[1],
                                                            base.sim[2])
        assert (-best.plan[0], best.plan[1], best.plan[2]) <= (-base.plan[0], base.plan[1],
                                                               base.plan[2])
    assert [dict(o.schedule.seats) for o in c1.outcomes] == [dict(o.schedule.seats)
                                                             for o in c2.outcomes]
    s = c1.summary().set_index("method")
    assert s.loc["optimised", "treated_per_day"] >= s.loc["first-come", "treated_per_day"]
    assert 0.0 < s.loc["optimised", "chair_utilisation"] <= 1.0
    assert s.loc["optimised", "nurse_load_peak"] <= opt.infusions_per_nurse
    # common random numbers: the same patient has the same reaction under both schedules
    v = c1.visits()
    pivot = v.pivot_table(index=["day", "id"], columns="method", values="dose_minutes")
    assert (pivot["first-come"] == pivot["optimised"]).all()


def test_scenarios_free_chair_hours() -> None:
    opt = ClinicOptions(chairs=3, nurses=1)
    table = scenarios(opt, days=1, patients_per_day=8,
                      mix={"first": 0.0, "maintenance": 1.0, "short": 0.0, "sc": 0.0},
                      seed=0, effort=EFFORT).set_index("scenario")
    # 8 maintenance visits: 315 -> 225 min (shorter) or 70 min (SC) of chair time each
    assert table.loc["as given", "chair_hours_needed_per_day"] == pytest.approx(8 * 315 / 60)
    assert table.loc["standard 600 mg -> shorter infusion", "chair_hours_freed_per_day"] == (
        pytest.approx(8 * 90 / 60))
    assert table.loc["all 600 mg IV -> SC", "chair_hours_freed_per_day"] == pytest.approx(
        8 * 245 / 60)
    assert table.loc["all 600 mg IV -> SC", "treated_per_day"] >= table.loc[
        "as given", "treated_per_day"]


def test_conflicts_in_plain_words() -> None:
    reqs = [Request(i, "maintenance") for i in range(8)]
    msg = explain_unfit(reqs, ClinicOptions(chairs=2, nurses=4), effort=EFFORT)
    assert "the 2 chairs" in msg and "opening hours" in msg and "nurses who" not in msg
    msg = explain_unfit(reqs, ClinicOptions(chairs=20, nurses=1, infusions_per_nurse=1),
                        effort=EFFORT)
    assert "1 running infusions per nurse" in msg and "chairs" not in msg
    msg = explain_unfit([Request(0, "first")], ClinicOptions(chairs=1, nurses=1, closes=11 * 60,
                                                             max_overtime=30))
    assert msg.startswith("a first visit needs 264 min in a chair")  # 15 + 30 + 159 + 60
    assert explain_unfit(reqs[:2], ClinicOptions(chairs=2, nurses=1), effort=EFFORT) == ""


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"chairs": 0, "nurses": 1}, "at least one chair"),
    ({"chairs": 2, "nurses": 0}, "at least one nurse"),
    ({"chairs": 2, "nurses": 1, "closes": 7 * 60}, "not after opens"),
    ({"chairs": 2, "nurses": 1, "infusions_per_nurse": 0}, "infusions_per_nurse"),
])
def test_bad_clinic_options(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ClinicOptions(**kwargs)


@pytest.mark.parametrize(("text", "match"), [
    ("first=0.5,maintenance=0.4", "sum to 0.9"),
    ("first=0.5,long=0.5", "not a visit type"),
    ("first=half", "not a number"),
    ("first", "name=share"),
    ("first=-0.5,sc=1.5", ">= 0"),
])
def test_bad_mix(text: str, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        parse_mix(text)


def test_mix_counts_by_largest_remainder() -> None:
    reqs = requests_for(10, parse_mix("first=0.15,maintenance=0.55,short=0.1,sc=0.2"),
                        np.random.default_rng(0))
    counts = {k: sum(r.visit == k for r in reqs) for k in MIX}
    assert counts == {"first": 2, "maintenance": 5, "short": 1, "sc": 2}
    with pytest.raises(InvalidInputError, match="days"):
        compare_schedules(ClinicOptions(chairs=1, nurses=1), days=0, patients_per_day=1,
                          mix=MIX)
