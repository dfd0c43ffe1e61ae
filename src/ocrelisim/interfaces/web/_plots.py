"""Plotly figure specifications (plain JSON) from the data a report's figures keep.

A :class:`ocrelisim.reports.Figure` keeps one row per plotted point (``panel``, ``series``,
``x`` and the values) and a layout per panel; each panel becomes one Plotly figure: percentile
bands as filled areas around the median, plain series as lines, Gantt rows as horizontal bars.
The browser draws them with the packaged ``plotly-basic.min.js`` (no CDN).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

COLORS = ("#1f5f99", "#b35806", "#1b7837", "#762a83", "#8c510a", "#c51b7d", "#01665e",
          "#4d4d4d")
"""Line colours (colour-blind-safe order; text labels carry the meaning too)."""
_VISIT_COLORS = {"first": "#c0392b", "maintenance": "#2471a3", "short": "#27ae60",
                 "sc": "#8e44ad"}


def _num(values: Any) -> list[float | None]:
    return [float(v) if isinstance(v, int | float) and math.isfinite(v) else None
            for v in values]


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _axes(layout: Mapping[str, Any], title: str | None = None) -> dict[str, Any]:
    shapes = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": h["y"], "y1": h["y"],
               "line": {"dash": "dot", "width": 1, "color": "#555"}}
              for h in layout.get("hlines", [])]
    notes = [{"xref": "paper", "x": 1, "y": h["y"], "yref": "y", "text": h.get("label", ""),
              "showarrow": False, "xanchor": "right", "yanchor": "bottom",
              "font": {"size": 11}} for h in layout.get("hlines", [])]
    if layout.get("yscale") == "log":
        notes = [{**a, "y": math.log10(a["y"])} for a in notes if a["y"] > 0]
    return {"title": {"text": title or layout.get("title", "")},
            "xaxis": {"title": {"text": layout.get("xlabel", "")}},
            "yaxis": {"title": {"text": layout.get("ylabel", "")},
                      "type": "log" if layout.get("yscale") == "log" else "linear"},
            "shapes": shapes, "annotations": notes, "margin": {"t": 50, "r": 20},
            "legend": {"orientation": "h", "y": -0.2}}


def _band_traces(part: pd.DataFrame, series: str, color: str) -> list[dict[str, Any]]:
    x = _num(part["x"])
    traces: list[dict[str, Any]] = []
    for lo, hi, alpha, name in (("p05", "p95", 0.15, "5-95%"), ("p25", "p75", 0.3, "25-75%")):
        traces.append({"x": x, "y": _num(part[lo]), "type": "scatter", "mode": "lines",
                       "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip",
                       "legendgroup": series})
        traces.append({"x": x, "y": _num(part[hi]), "type": "scatter", "mode": "lines",
                       "line": {"width": 0}, "fill": "tonexty",
                       "fillcolor": _rgba(color, alpha), "name": f"{series} {name}",
                       "showlegend": False, "legendgroup": series})
    traces.append({"x": x, "y": _num(part["p50"]), "type": "scatter", "mode": "lines",
                   "line": {"color": color, "width": 2}, "name": f"{series} (median)",
                   "legendgroup": series})
    return traces


def _gantt_traces(part: pd.DataFrame) -> list[dict[str, Any]]:
    traces = []
    for visit, rows in part.groupby("visit", sort=False):
        traces.append({"type": "bar", "orientation": "h", "name": str(visit),
                       "y": [str(s) for s in rows["series"]],
                       "x": _num(rows["end"] - rows["x"]), "base": _num(rows["x"]),
                       "marker": {"color": _VISIT_COLORS.get(str(visit), "#666"),
                                  "line": {"color": "#fff", "width": 1}},
                       "text": [f"patient {p}" for p in rows["patient"]],
                       "hovertemplate": "%{text}: %{base:.0f}-%{x:.0f} min<extra></extra>"})
    return traces


def report_figure(data: pd.DataFrame, layout: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One Plotly spec ``{"id", "data", "layout"}`` per panel of a report figure."""
    out = []
    for k, (panel, part) in enumerate(data.groupby("panel", sort=False)):
        traces: list[dict[str, Any]] = []
        if "end" in part.columns:
            traces = _gantt_traces(part)
        else:
            for j, (series, rows) in enumerate(part.groupby("series", sort=False)):
                color = COLORS[j % len(COLORS)]
                if "p50" in rows.columns and rows["p50"].notna().any():
                    traces += _band_traces(rows, str(series), color)
                elif "y" in rows.columns:
                    traces.append({"x": _num(rows["x"]), "y": _num(rows["y"]),
                                   "type": "scatter", "mode": "lines+markers",
                                   "name": str(series), "line": {"color": color}})
        panel_layout = layout.get(str(panel), {})
        axes = _axes(panel_layout, panel_layout.get("title", str(panel)))
        if "end" in part.columns:  # Gantt rows are named chairs: a category axis
            axes["yaxis"].update(type="category", categoryorder="category ascending",
                                 autorange="reversed")
            axes["barmode"] = "overlay"
        out.append({"id": f"panel-{k}", "data": traces, "layout": axes})
    return out


def lines(x: Sequence[float | None], series: Mapping[str, Sequence[float | None]], *,
          title: str, xlabel: str, ylabel: str, log: bool = False,
          hlines: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A line figure: one trace per named series over ``x``."""
    traces = [{"x": list(x), "y": list(y), "type": "scatter", "mode": "lines", "name": name,
               "line": {"color": COLORS[j % len(COLORS)], "width": 2,
                        "dash": ("solid", "dash", "dot")[j % 3]}}
              for j, (name, y) in enumerate(series.items())]
    layout = _axes({"xlabel": xlabel, "ylabel": ylabel, "yscale": "log" if log else "linear",
                    "hlines": list(hlines)}, title)
    return {"data": traces, "layout": layout}


def _short(text: str, width: int = 38) -> str:
    """A step name cut at a word before ``width`` characters (the table has it in full)."""
    head = text.split(":")[0] if ":" in text[:width] else text
    return head if len(head) <= width else head[:width].rsplit(" ", 1)[0] + "…"


def timeline(steps: Sequence[Mapping[str, Any]], title: str) -> dict[str, Any]:
    """The infusion day as horizontal bars, one row per step, minutes from arrival."""
    names = [f"{i + 1}. {_short(str(s['name']))}" for i, s in enumerate(steps)]
    kinds = [str(s.get("kind", "")) for s in steps]
    palette = {"infusion": "#1f5f99", "injection": "#762a83", "observation": "#1b7837",
               "premedication": "#b35806", "pause": "#c51b7d"}
    trace = {"type": "bar", "orientation": "h", "y": names,
             "x": [float(s["end_min"]) - float(s["start_min"]) for s in steps],
             "base": [float(s["start_min"]) for s in steps],
             "marker": {"color": [palette.get(k, "#777") for k in kinds]},
             "text": kinds, "hovertemplate": "%{y}: %{base:.0f} to %{x:.0f} min<extra></extra>"}
    layout = _axes({"xlabel": "minutes from arrival", "ylabel": ""}, title)
    layout["yaxis"].update(type="category", autorange="reversed")
    layout["margin"] = {"l": 260, "t": 50, "r": 20}
    layout["height"] = 120 + 28 * len(steps)
    return {"data": [trace], "layout": layout}
