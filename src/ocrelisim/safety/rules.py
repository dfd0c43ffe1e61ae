"""The pre-dose check's rules as data: read once from ``rules.yaml`` (package data).

Each :class:`Rule` carries its id, severity, the decision it asks for when it fires, the labels
it applies to, a one-line plain-language summary (a template filled from the record), detail,
source keys and its basis (label rule or our assumption). The conditions are code, in
:mod:`ocrelisim.safety.check`, one function per rule id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal, cast, get_args

import yaml

Severity = Literal["info", "warning", "critical"]
Decision = Literal["dose", "delay", "do not dose", "cannot decide"]
Label = Literal["US", "EU"]

SEVERITIES: tuple[Severity, ...] = get_args(Severity)
DECISIONS: tuple[Decision, ...] = get_args(Decision)
LABELS: tuple[Label, ...] = get_args(Label)

STRICTNESS: Mapping[Decision, int] = MappingProxyType(
    {"dose": 0, "cannot decide": 1, "delay": 2, "do not dose": 3})
"""When several rules fire the strictest wins: do not dose > delay > cannot decide > dose."""

_KEY = re.compile(r"^\[(S|W)\d+[a-z]?\]$")
_FIELDS = ("id", "severity", "effect", "labels", "summary", "detail", "sources", "basis")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the pre-dose check (see ``rules.yaml``)."""

    id: str
    severity: Severity
    effect: Decision
    labels: tuple[Label, ...]
    summary: str
    detail: str
    sources: tuple[str, ...]
    basis: str

    def __post_init__(self) -> None:
        where = f"rules.yaml, rule {self.id!r}"
        if self.severity not in SEVERITIES:
            raise ValueError(f"{where}: severity {self.severity!r} not in {SEVERITIES}")
        if self.effect not in DECISIONS:
            raise ValueError(f"{where}: effect {self.effect!r} not in {DECISIONS}")
        if not self.labels or any(lab not in LABELS for lab in self.labels):
            raise ValueError(f"{where}: labels {self.labels!r} must be from {LABELS}")
        if not self.sources or any(not _KEY.match(k) for k in self.sources):
            raise ValueError(f"{where}: sources {self.sources!r} must be keys like [S3], [W2]")
        if not (self.summary and self.detail and self.basis):
            raise ValueError(f"{where}: summary, detail and basis must not be empty")


def strictest(decisions: list[Decision]) -> Decision:
    """The strictest of ``decisions`` ("dose" when there are none)."""
    return max(decisions, key=STRICTNESS.__getitem__, default="dose")


def _rule(entry: object) -> Rule:
    if not isinstance(entry, dict) or set(entry) != set(_FIELDS):
        raise ValueError(f"rules.yaml: each rule needs exactly the fields {_FIELDS}: {entry!r}")
    return Rule(
        id=str(entry["id"]), severity=entry["severity"], effect=entry["effect"],
        labels=tuple(entry["labels"]), summary=" ".join(str(entry["summary"]).split()),
        detail=" ".join(str(entry["detail"]).split()), sources=tuple(entry["sources"]),
        basis=str(entry["basis"]))


@cache
def _load() -> tuple[Mapping[str, Rule], Mapping[str, str]]:
    text = resources.files("ocrelisim.safety").joinpath("rules.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    rules = [_rule(e) for e in data["rules"]]
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"rules.yaml: duplicate rule ids in {ids}")
    sources = {str(k): " ".join(str(v).split()) for k, v in data["sources"].items()}
    cited_w = {k for r in rules for k in r.sources if k.startswith("[W")}
    if missing := sorted(cited_w - set(sources)):
        raise ValueError(f"rules.yaml: sources {missing} are cited but not listed under sources")
    return (MappingProxyType({r.id: r for r in rules}),
            cast(Mapping[str, str], MappingProxyType(sources)))


def rules() -> Mapping[str, Rule]:
    """All rules by id, in file order (read-only)."""
    return _load()[0]


def extra_sources() -> Mapping[str, str]:
    """The ``[W..]`` sources (not in the fact dossier): key -> reference and URL."""
    return _load()[1]
