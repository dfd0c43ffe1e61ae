"""MkDocs hook: the parameter table, generated from the specs at build time.

``docs/parameters.md`` holds the marker ``<!-- parameter-tables -->``; this hook replaces it
with one table per spec (value, unit, bounds, variability, source or assumption), read from
the frozen ``Parameter`` objects of :mod:`ocrelisim.parameters`, :mod:`ocrelisim.safety.parameters`
and :mod:`ocrelisim.regimens._doses`. Nothing is simulated: the build stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any

MARKER = "<!-- parameter-tables -->"
DISCLAIMER_MARKER = "<!-- disclaimer -->"
SOURCE_KEY = re.compile(r"\[([ST]\d+[a-z]?)\]")  # [S12] dossier, [T1] trial source: not links
MODULES = ("ocrelisim.parameters", "ocrelisim.safety.parameters", "ocrelisim.regimens._doses")

# Variability that is not an ``omega_<name>`` field of the same spec: parameter -> the field
# holding its between-patient variability (see the model pages).
FRAILTY = {
    "arr_untreated": "relapse_alpha", "gd_untreated": "lesion_alpha",
    "t2_untreated": "lesion_alpha", "pira_rms": "pira_shape", "pira_ppms": "pira_shape",
    "t25_slope": "pira_shape", "t_delay": "omega_t", "s_ifng_cd4": "omega_t",
    "s_ifng_cd8": "omega_t", "s_th17": "omega_t", "s_gmcsf_t": "omega_t", "s_treg": "omega_t",
    "s_ne_cd4": "omega_t", "s_ne_cd8": "omega_t", "irr_intercept": "irr_frailty_sd",
}


def _is_parameter(obj: object) -> bool:
    from ocrelisim.parameters import Parameter

    return isinstance(obj, Parameter)


def specs() -> list[tuple[str, str, list[tuple[str, Any]]]]:
    """(module, title, [(name, Parameter)]) for every spec instance and loose parameters."""
    out = []
    for mod_name in MODULES:
        mod = importlib.import_module(mod_name)
        loose = []
        for name, obj in vars(mod).items():
            if name.startswith("_"):
                continue
            if _is_parameter(obj):
                loose.append((name, obj))
            elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                rows = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
                rows = [(n, p) for n, p in rows if _is_parameter(p)]
                if rows:
                    doc = (type(obj).__doc__ or "").strip().split("\n")[0]
                    out.append((mod_name, f"`{name}` ({type(obj).__name__}): {doc}", rows))
        if loose:
            out.append((mod_name, f"Module constants of `{mod_name}`", loose))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _num(x: float) -> str:
    return f"{x:.6g}"


def variability(name: str, rows: dict[str, Any]) -> str:
    for other in (f"omega_{name}", FRAILTY.get(name, "")):
        if other in rows:
            p = rows[other]
            return f"`{other}` = {_num(p.value)} ({p.unit})"
    return "—"


def table(rows: list[tuple[str, Any]]) -> str:
    by_name = dict(rows)
    lines = ["| parameter | value | unit | bounds | variability | basis | source or reason |",
             "|---|---|---|---|---|---|---|"]
    for name, p in rows:
        lo, hi = p.bounds
        basis = "assumption" if p.assumption else "source"
        lines.append("| " + " | ".join((
            f"`{name}`", _num(p.value), _cell(p.unit), f"{_num(lo)} – {_num(hi)}",
            variability(name, by_name), basis, _cell(p.source))) + " |")
    return "\n".join(lines)


def parameter_tables() -> str:
    parts = []
    for mod_name, title, rows in specs():
        n_assumed = sum(p.assumption for _, p in rows)
        parts += [f"## {title}", "",
                  f"{len(rows)} parameters ({n_assumed} assumptions), from `{mod_name}`.", "",
                  table(rows), ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if DISCLAIMER_MARKER in markdown:
        from ocrelisim._meta import DISCLAIMER

        markdown = markdown.replace(
            DISCLAIMER_MARKER, f'!!! warning "Research and education only"\n    {DISCLAIMER}')
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, parameter_tables())
    return SOURCE_KEY.sub(r"\\[\1\\]", markdown)
