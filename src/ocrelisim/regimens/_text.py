"""The regimen text form: tokenizer, recursive-descent parser and printer.

The grammar is in the :mod:`ocrelisim.regimens` docstring. Both directions work on doses, not on
Regimen, so that ``Regimen.parse`` and ``str(regimen)`` can use this module without a cycle.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ..errors import RegimenError
from ..units import DAYS_PER_WEEK, HOURS_PER_DAY, MINUTES_PER_DAY
from ._doses import _MAX_REPEAT, Dose, IVInfusion, SCInjection, _repeat

_AMOUNT_UNITS = {"mg": 1.0, "g": 1000.0}
_DURATION_PER_DAY = {"h": HOURS_PER_DAY, "min": MINUTES_PER_DAY, "d": 1.0}
_RATE_PER_DAY = {"mg/h": HOURS_PER_DAY, "mg/min": MINUTES_PER_DAY, "mg/d": 1.0, "mg/day": 1.0}
_TIME_FACTOR = {"d": 1.0, "w": DAYS_PER_WEEK}


def _fmt(x: float) -> str:
    """Shortest text that reads back as exactly ``x``."""
    return str(int(x)) if x.is_integer() and abs(x) < 2.0**53 else repr(x)



_TOKEN = re.compile(r"\s*(?:(?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
                    r"|(?P<word>[A-Za-z/]+)|(?P<punct>[,;]))")


class _Tok(NamedTuple):
    kind: str  # num | word | punct | end
    text: str
    col: int  # 1-based


def _tokenize(text: str) -> list[_Tok]:
    toks, pos = [], 0
    while (m := _TOKEN.match(text, pos)) is not None:
        kind = str(m.lastgroup)
        toks.append(_Tok(kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    rest = text[pos:]
    if rest.strip():
        col = pos + len(rest) - len(rest.lstrip()) + 1
        raise RegimenError(f"{text!r}: unexpected character {text[col - 1]!r} at column {col}; "
                           f"regimen text holds numbers, words, ',' and ';'")
    return [*toks, _Tok("end", "end of text", len(text) + 1)]


class _Parser:
    """Recursive-descent reader of the grammar in the :mod:`ocrelisim.regimens` docstring."""

    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i = text, _tokenize(text), 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def word(self) -> str:
        tok = self.peek()
        return tok.text.lower() if tok.kind == "word" else ""

    def fail(self, tok: _Tok, what: str, fix: str) -> RegimenError:
        return RegimenError(f"{self.text!r}: {what} at column {tok.col}; {fix}")

    def number(self, what: str) -> float:
        tok = self.take()
        if tok.kind != "num":
            raise self.fail(tok, f"expected {what} (a number), got {tok.text!r}",
                            "see Regimen.parse for the grammar")
        return float(tok.text)

    def unit(self, table: dict[str, float], what: str) -> float:
        tok = self.take()
        factor = table.get(tok.text.lower()) if tok.kind == "word" else None
        if factor is None:
            raise self.fail(tok, f"unknown {what} {tok.text!r}", f"use {' or '.join(table)}")
        return factor

    def regimen(self) -> list[Dose]:
        doses = self.clause()
        while (tok := self.take()).kind != "end":
            if tok.text != ";":
                raise self.fail(tok, f"unexpected {tok.text!r}",
                                "separate clauses with ';' and dose times with ','")
            doses += self.clause()
        return doses

    def clause(self) -> list[Dose]:
        first = self.peek()
        amount = self.number("the dose amount") * self.unit(_AMOUNT_UNITS, "unit")
        route_tok = self.take()
        route = route_tok.text.upper() if route_tok.kind == "word" else ""
        if route not in ("IV", "SC"):
            raise self.fail(route_tok, f"unknown route {route_tok.text!r}", "use IV or SC")
        make = self.mode(route, amount)
        times = self.schedule()
        try:
            return [make(t) for t in times]
        except RegimenError as err:
            raise RegimenError(f"{self.text!r}: clause at column {first.col}: {err}") from None

    def mode(self, route: str, amount: float) -> Callable[[float], Dose]:
        tok, w = self.peek(), self.word()
        if w not in ("label", "short", "over", "rate"):
            if route == "SC":
                return lambda t: SCInjection(t, amount)
            return lambda t: IVInfusion.label(t, amount)
        if route == "SC":
            raise self.fail(tok, f"infusion option {tok.text!r} given for an SC dose",
                            "SC doses take no infusion option: remove it or use IV")
        self.take()
        if w in ("label", "short"):
            build = IVInfusion.label if w == "label" else IVInfusion.short
            return lambda t: build(t, amount)
        vtok = self.peek()
        value = self.number("the infusion duration" if w == "over" else "the infusion rate")
        table = _DURATION_PER_DAY if w == "over" else _RATE_PER_DAY
        factor = self.unit(table, "duration unit" if w == "over" else "rate unit")
        if not value > 0.0:
            raise self.fail(vtok, f"infusion {'duration' if w == 'over' else 'rate'} "
                            f"{vtok.text} is not positive", "give a value > 0")
        if w == "over":
            return lambda t: IVInfusion.constant(t, amount, duration=value / factor)
        return lambda t: IVInfusion.constant(t, amount, rate=value * factor)

    def schedule(self) -> list[float]:
        tok = self.peek()
        if tok.kind == "end" or tok.text == ";":
            return [0.0]
        if self.word() == "q":
            return self.repeat()
        times = [self.time()]
        while self.peek().text == ",":
            self.take()
            times.append(self.time())
        return times

    def time(self) -> float:
        tok = self.peek()
        if self.word() not in _TIME_FACTOR:
            raise self.fail(tok, f"expected a dose time like d14 or w2, got {tok.text!r}",
                            "write times as d<day> or w<week> counted from the first dose")
        factor = self.unit(_TIME_FACTOR, "time unit")
        ntok = self.peek()
        t = self.number("the dose day") * factor
        if t < 0.0:
            raise self.fail(ntok, f"negative time {tok.text}{ntok.text}",
                            "times count from the first dose (d0) and must be >= 0")
        return t

    def repeat(self) -> list[float]:
        self.take()  # q
        qtok = self.peek()
        interval = self.number("the dosing interval") * self.unit(_TIME_FACTOR, "interval unit")
        if not interval > 0.0:
            raise self.fail(qtok, f"dosing interval q{qtok.text} is not positive",
                            "give an interval > 0, e.g. q24w")
        xtok = self.take()
        if xtok.kind != "word" or xtok.text.lower() != "x":
            raise self.fail(xtok, f"expected 'x <count>' after the interval, got {xtok.text!r}",
                            "write e.g. q24w x4")
        ctok = self.take()
        if not (ctok.kind == "num" and ctok.text.isdigit() and 1 <= int(ctok.text) <= _MAX_REPEAT):
            raise self.fail(ctok, f"dose count {ctok.text!r} is not a whole number in "
                            f"[1, {_MAX_REPEAT}]", "write e.g. x4")
        start = 0.0
        if self.word() == "from":
            self.take()
            start = self.time()
        return _repeat(start, interval, int(ctok.text))


def _mode_text(d: IVInfusion) -> str | None:
    """The infusion option that parse turns back into exactly ``d``'s steps, or None."""
    kind = d.kind
    if kind in ("label", "short"):
        return "" if kind == "label" else " short"
    if kind == "custom":
        return None
    dur, rate = d.steps[0]
    texts = []
    if d.amount / dur == rate:
        texts += [f" over {_fmt(dur * k)}{unit}" for unit, k in _DURATION_PER_DAY.items()
                  if float(_fmt(dur * k)) / k == dur]
    if d.amount / rate == dur:
        texts += [f" rate {_fmt(rate / k)} {unit}" for unit, k in _RATE_PER_DAY.items()
                  if float(_fmt(rate / k)) * k == rate]
    return min(texts, key=len, default=None)  # the shortest exact spelling


def _schedule_texts(times: list[float]) -> list[str]:
    """Dose times as schedules: runs of >= 3 equally spaced doses as 'q.. x.. from ..'."""
    out: list[str] = []
    pending: list[float] = []
    i = 0
    while i < len(times):
        start, n = times[i], 1
        q = times[i + 1] - start if i + 1 < len(times) else 0.0
        while q > 0.0 and i + n < len(times) and start + n * q == times[i + n]:
            n += 1
        if n < 3:
            pending.append(start)
            i += 1
            continue
        if pending:
            out.append(", ".join(f"d{_fmt(t)}" for t in pending))
            pending = []
        weeks = f"q{_fmt(q / 7.0)}w" if float(_fmt(q / 7.0)) * 7.0 == q else ""
        every = min((weeks, f"q{_fmt(q)}d"), key=lambda s: len(s) if s else math.inf)
        out.append(f"{every} x{n}" + (f" from d{_fmt(start)}" if start else ""))
        i += n
    if pending:
        out.append(", ".join(f"d{_fmt(t)}" for t in pending))
    return out


def parse_doses(text: str) -> list[Dose]:
    """The doses written in ``text``, in order; RegimenError naming the column if unreadable."""
    return _Parser(text).regimen()


def to_text(doses: Iterable[Dose]) -> str | None:
    """The text form of ``doses`` (sorted as in a Regimen), or None if an infusion has custom
    steps that the text form cannot write."""
    groups: dict[Dose, list[float]] = {}
    for d in doses:
        groups.setdefault(d.with_time(0.0), []).append(d.time)
    clauses = []
    for d, times in groups.items():
        mode = _mode_text(d) if isinstance(d, IVInfusion) else ""
        if mode is None:
            return None
        clauses += [f"{_fmt(d.amount)} mg {d.route}{mode} {s}" for s in _schedule_texts(times)]
    return "; ".join(clauses)
