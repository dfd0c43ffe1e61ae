"""Pre-dose check: every rule fires and stays silent, strictest wins, US vs EU, examples.

Reference values come from the rules' sources: 5 calendar months between doses [S3][S4][S87];
second 300 mg infusion 2 weeks after the first [S3][S4]; IgG LLN 5.65 g/L [S22]; live vaccines
4 weeks (US [S20b]) / 6 weeks (EU [S66]) and non-live 2 weeks (US [S20b]) before the first
dose; contraception 6 months (US [S19][S69]) / 12 months (EU [S66][S68]).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from _records import FIRST_DOSE, MAINTENANCE, Record, make

from ocrelisim._meta import DISCLAIMER
from ocrelisim.safety import check, load_record, rule_ids, rules
from ocrelisim.safety.check import _EVALUATORS, STATEMENT
from ocrelisim.safety.rules import DECISIONS, STRICTNESS, extra_sources, strictest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "safety"
DOSSIER = REPO.parent / "shared" / "reference" / "ocrelizumab-facts.md"

M, F = MAINTENANCE, FIRST_DOSE
PREV = M["previous_doses"]


def _prev(*doses: tuple[str, str, int, str | None]) -> list[dict[str, Any]]:
    return [{"date": d, "route": r, "dose_mg": mg, **({"reaction": x} if x else {})}
            for d, r, mg, x in doses]


def _hbv(**kw: str | None) -> dict[str, str]:
    hbv = {"hbsag": "negative", "anti_hbc": "negative", **kw}
    return {k: v for k, v in hbv.items() if v is not None}


def _vac(days_before: int, live: bool) -> list[dict[str, Any]]:
    import datetime as dt

    day = dt.date(2026, 11, 30) - dt.timedelta(days=days_before)
    return [{"date": day.isoformat(), "name": "MMR" if live else "tetanus", "live": live}]


# rule id -> (record on which it fires, record on which it stays silent): near misses where
# possible (boundaries of dates and thresholds).
CASES: dict[str, tuple[Record, Record]] = {
    "HBV-SURFACE-POSITIVE": (make(M, hbv=_hbv(hbsag="positive")), M),
    "HBV-SURFACE-MISSING": (make(M, hbv=_hbv(hbsag="unknown")), M),
    "HBV-CORE-POSITIVE": (make(M, hbv=_hbv(anti_hbc="positive")), M),
    "HBV-CORE-MISSING": (make(M, hbv={"hbsag": "negative"}), M),
    "INFECTION-ACTIVE": (make(M, active_infection=True), M),
    "INFECTION-STATUS-MISSING": (make(M, active_infection="unknown"), M),
    "IG-BASELINE-MISSING": (make(F, igg_g_per_l=None), make(M, igg_g_per_l=None)),
    "IGG-BELOW-LLN": (make(M, igg_g_per_l=5.64), make(M, igg_g_per_l=5.65)),
    "PREGNANT": (make(M, pregnant=True), M),
    "PREGNANCY-STATUS-MISSING": (make(M, pregnant=None), M),
    "LIVE-VACCINE-BEFORE-START": (make(F, vaccinations=_vac(27, True)),
                                  make(F, vaccinations=_vac(28, True))),
    "NONLIVE-VACCINE-BEFORE-START": (make(F, vaccinations=_vac(13, False)),
                                     make(F, vaccinations=_vac(14, False))),
    "LIVE-VACCINE-ON-TREATMENT": (make(M, vaccinations=[{"date": "2025-11-24", "name": "YF",
                                                         "live": True}]),
                                  make(M, vaccinations=[{"date": "2025-11-23", "name": "YF",
                                                         "live": True}])),
    # 2026-07-01 + 5 months = 2026-12-01 > check date; 2026-06-30 + 5 months = 2026-11-30.
    "MIN-INTERVAL": (make(M, previous_doses=_prev(("2026-07-01", "IV", 600, "none"))),
                     make(M, previous_doses=_prev(("2026-06-30", "IV", 600, "none")))),
    "SECOND-INFUSION-EARLY": (make(F, previous_doses=_prev(("2026-11-17", "IV", 300, "none"))),
                              make(F, previous_doses=_prev(("2026-11-16", "IV", 300, "none")))),
    "DOSE-SEQUENCE": (make(M, planned={"route": "IV", "dose_mg": 300}), M),
    # due = last + 6 months: 2026-05-29 -> 2026-11-29 (overdue); 2026-05-30 -> 2026-11-30.
    "DOSE-OVERDUE": (make(M, previous_doses=_prev(("2026-05-29", "IV", 600, "none"))),
                     make(M, previous_doses=_prev(("2026-05-30", "IV", 600, "none")))),
    "PRIOR-LIFE-THREATENING-REACTION": (
        make(M, previous_doses=[*PREV[:2], {**PREV[2], "reaction": "life-threatening"}]),
        make(M, previous_doses=[*PREV[:2], {**PREV[2], "reaction": "severe"}])),
    "SHORTER-INFUSION-NOT-ALLOWED": (
        make(M, planned={"route": "IV", "dose_mg": 600, "protocol": "shorter"},
             previous_doses=[*PREV[:2], {**PREV[2], "reaction": "severe"}]),
        make(M, planned={"route": "IV", "dose_mg": 600, "protocol": "shorter"},
             previous_doses=[*PREV[:2], {**PREV[2], "reaction": "moderate"}])),
    "SHORTER-INFUSION-HISTORY-MISSING": (
        make(M, planned={"route": "IV", "dose_mg": 600, "protocol": "shorter"},
             previous_doses=[*PREV[:2], {**PREV[2], "reaction": "unknown"}]),
        make(M, planned={"route": "IV", "dose_mg": 600, "protocol": "shorter"})),
    "PML-SIGNS": (make(M, symptoms=["one_sided_weakness"]), make(M, symptoms=["none"])),
    "INFECTION-SIGNS": (make(M, symptoms=["fever"]),
                        make(M, symptoms=["fever"], active_infection=True)),
    "SYMPTOM-UNCODED": (make(M, symptoms=["headache since Monday"]),
                        make(M, symptoms=["Persistent cough"])),
    "SYMPTOMS-UNKNOWN": (make(M, symptoms="unknown"), M),
    "AGE-UNDER-18": (make(M, age=17.9), make(M, age=18)),
    "PRIOR-THERAPY-SWITCH": (make(F, prior_therapy={"name": "glatiramer acetate"}),
                             make(M, prior_therapy={"name": "glatiramer acetate"})),
    "PRIOR-THERAPY-PML-CARRYOVER": (
        make(F, prior_therapy={"name": "Natalizumab", "last_dose": "2026-10-20"}),
        make(F, prior_therapy={"name": "glatiramer acetate"})),
}


def _trace(result: Any, rule_id: str) -> Any:
    (entry,) = [t for t in result.trace if t.rule_id == rule_id]
    return entry


def test_every_rule_has_a_condition_and_a_test_case() -> None:
    assert set(rule_ids()) == set(_EVALUATORS)
    assert set(rule_ids()) == set(CASES)


def test_the_base_records_fire_no_rule() -> None:
    result = check(M)
    assert result.decision == "dose"
    assert result.cards == ()
    assert [t.rule_id for t in result.trace] == list(rule_ids())
    assert not any(t.fired for t in result.trace)
    assert check(F).decision == "dose"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(rule_id: str) -> None:
    rule = rules()[rule_id]
    result = check(CASES[rule_id][0])
    entry = _trace(result, rule_id)
    assert entry.fired and entry.effect == rule.effect
    (card,) = [c for c in result.cards if c.rule_id == rule_id]
    assert card.severity == rule.severity and card.sources == rule.sources
    assert "{" not in card.summary and "}" not in card.summary  # template filled
    assert STRICTNESS[result.decision] >= STRICTNESS[rule.effect]


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_stays_silent(rule_id: str) -> None:
    result = check(CASES[rule_id][1])
    entry = _trace(result, rule_id)
    assert not entry.fired and entry.effect is None and entry.reason
    assert rule_id not in [c.rule_id for c in result.cards]


def test_min_interval_card_gives_the_calendar_date() -> None:
    result = check(CASES["MIN-INTERVAL"][0])
    (card,) = [c for c in result.cards if c.rule_id == "MIN-INTERVAL"]
    assert card.summary == ("Only 152 days since the last dose (2026-07-01): the next dose may "
                            "be given from 2026-12-01.")
    assert result.interval.earliest_allowed.isoformat() == "2026-12-01"
    assert result.decision == "delay"


def test_second_infusion_and_first_maintenance_dates() -> None:
    first = check(F).interval
    assert first.next_due.isoformat() == "2026-12-14"  # 14 days [S3][S4]
    second = check(CASES["SECOND-INFUSION-EARLY"][1]).interval
    assert second.next_due.isoformat() == "2027-05-16"  # 6 months after infusion 1 [S3]


def test_hbsag_positive_alone_means_do_not_dose() -> None:
    result = check(make(M, hbv={"hbsag": "positive"}))  # anti-HBc not given
    assert result.decision == "do not dose"


@pytest.mark.parametrize("changes, decision", [
    # do not dose > delay > cannot decide > dose
    ({"hbv": _hbv(hbsag="positive", anti_hbc="unknown"), "active_infection": True},
     "do not dose"),
    ({"active_infection": True, "hbv": _hbv(anti_hbc="unknown")}, "delay"),
    ({"hbv": _hbv(anti_hbc="unknown"), "igg_g_per_l": 4.0}, "cannot decide"),
    ({"igg_g_per_l": 4.0, "hbv": _hbv(anti_hbc="positive")}, "dose"),
    ({"symptoms": ["confusion"], "pregnant": True, "active_infection": "unknown"},
     "do not dose"),
])
def test_strictest_rule_wins(changes: dict[str, Any], decision: str) -> None:
    result = check(make(M, **changes))
    assert result.decision == decision
    assert len([t for t in result.trace if t.fired]) >= 2


def test_strictness_order() -> None:
    order = ["dose", "cannot decide", "delay", "do not dose"]
    assert sorted(DECISIONS, key=STRICTNESS.__getitem__) == order
    for pair in itertools.permutations(order, 2):
        assert strictest(list(pair)) == max(pair, key=order.index)
    assert strictest([]) == "dose"


def test_us_and_eu_labels_differ() -> None:
    five_weeks = make(F, vaccinations=_vac(35, True))  # live vaccine 5 weeks ago
    us, eu = check(five_weeks, label="US"), check(five_weeks, label="EU")
    assert us.decision == "dose" and eu.decision == "delay"
    (card,) = [c for c in eu.cards if c.rule_id == "LIVE-VACCINE-BEFORE-START"]
    assert "less than 6 weeks" in card.summary and "2026-12-07" in card.summary
    assert "6 months after the last dose" in us.contraception.text
    assert "12 months after the last dose" in eu.contraception.text
    no_igg = make(F, igg_g_per_l=None)
    assert check(no_igg, label="US").decision == "cannot decide"  # US PI 2.1 [S20b]
    assert _trace(check(no_igg, label="EU"), "IG-BASELINE-MISSING").reason == (
        "not a rule of the EU label")
    assert any("blood-pressure" in a.text for a in eu.checklist)
    assert not any("blood-pressure" in a.text for a in us.checklist)


def test_nonlive_vaccine_window_is_six_weeks_in_the_eu() -> None:
    record = make(F, vaccinations=_vac(20, False))
    assert not _trace(check(record, label="US"), "NONLIVE-VACCINE-BEFORE-START").fired
    assert _trace(check(record, label="EU"), "NONLIVE-VACCINE-BEFORE-START").fired


def test_sc_premedication_and_observation() -> None:
    first_sc = check(make(F, planned={"route": "SC", "dose_mg": 920}))
    assert first_sc.decision == "dose"
    assert "at least 1 hour" in first_sc.observation.text  # first injection [S6]
    assert "dexamethasone 20 mg" in first_sc.premedication[0].text
    later = check(make(M, planned={"route": "SC", "dose_mg": 920},
                       previous_doses=_prev(("2026-05-30", "SC", 920, "none"))))
    assert "at least 15 minutes" in later.observation.text  # later injections [S6]


def test_result_carries_disclaimer_statement_and_sources() -> None:
    result = check(CASES["PML-SIGNS"][0])
    assert result.disclaimer == DISCLAIMER
    assert result.statement == STATEMENT and "not a treatment decision" in STATEMENT
    cited = {k for c in result.cards for k in c.sources}
    cited |= {k for a in (*result.checklist, *result.premedication, *result.vaccination,
                          result.irr_signs, result.pml_signs, result.contraception)
              for k in a.sources}
    assert all(re.fullmatch(r"\[(S\d+[a-z]?|W\d+)\]", k) for k in cited)
    assert {k for k in cited if k.startswith("[W")} <= set(result.sources)
    dumped = result.model_dump(mode="json")
    assert dumped["decision"] == "do not dose" and dumped["disclaimer"] == DISCLAIMER


def test_every_cited_source_exists() -> None:
    cited = {k for r in rules().values() for k in r.sources}
    assert {k for k in cited if k.startswith("[W")} <= set(extra_sources())
    if not DOSSIER.exists():
        pytest.skip("fact dossier not available outside the project workspace")
    dossier = DOSSIER.read_text(encoding="utf-8")
    missing = [k for k in cited if k.startswith("[S") and f"| {k[1:-1]} |" not in dossier]
    assert missing == []


@pytest.mark.parametrize("name, decision", [
    ("dose", "dose"), ("delay", "delay"), ("do-not-dose", "do not dose"),
    ("cannot-decide", "cannot decide"),
])
def test_example_records(name: str, decision: str) -> None:
    assert check(load_record(EXAMPLES / f"{name}.yaml")).decision == decision
