"""Renderers: a :class:`Report` as PNG bytes, a self-contained HTML page, or files."""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

from ..io import atomic_write, write_table
from ._report import Figure, Report

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
.disclaimer { background: #fff4e5; border-left: 4px solid #e67e22; padding: .6rem 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th { background: #f4f4f4; }
img { max-width: 100%; }
pre { background: #f7f7f7; padding: .6rem 1rem; overflow-x: auto; font-size: .8rem; }
footer { color: #777; font-size: .8rem; margin-top: 2rem; }
"""


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at the figure's ``dpi``."""
    buf = io.BytesIO()
    fig.figure.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def _figure_html(name: str, fig: Figure, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    alt = html.escape(fig.title or name)
    return (f'<figure id="figure-{html.escape(name)}"><img alt="{alt}" '
            f'src="data:image/png;base64,{data}"></figure>')


def to_html(report: Report) -> str:
    """A self-contained HTML page: title, disclaimer, notes, figures, tables and inputs.

    Figures are embedded as base64 PNG data URIs and nothing is loaded from elsewhere (no CDN),
    so the page can be moved or mailed alone. All text is HTML-escaped.
    """
    return _html(report, {name: figure_png(fig) for name, fig in report.figures.items()})


def _html(report: Report, pngs: dict[str, bytes]) -> str:
    from .. import __version__

    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(report.title)}</h1>",
        f'<p class="disclaimer"><strong>{esc(report.disclaimer)}</strong></p>',
        *(f"<p>{esc(n)}</p>" for n in report.notes),
        *(_figure_html(name, fig, pngs[name]) for name, fig in report.figures.items()),
    ]
    for heading, df in report.tables.items():
        parts.append(f"<h2>{esc(heading)}</h2>")
        parts.append(df.to_html(index=False, border=0, escape=True))
    if report.inputs:
        parts.append("<h2>Inputs</h2>")
        parts.append(f"<pre>{esc(json.dumps(report.inputs, indent=2))}</pre>")
    parts.append(f"<footer>ocrelisim {esc(__version__)}. {esc(report.disclaimer)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _bytes(data: bytes) -> Callable[[Path], int]:
    return lambda tmp: tmp.write_bytes(data)


def write(report: Report, out_dir: str | os.PathLike[str], *,
          html_name: str = "index.html") -> list[Path]:
    """Write the report into ``out_dir`` (created if missing).

    One PNG per figure (``<name>.png``), one CSV per data table (``<name>.csv``), then the
    HTML page (``html_name``). Every file is written atomically.

    Returns
    -------
    list of pathlib.Path
        The written files, in that order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = {name: figure_png(fig) for name, fig in report.figures.items()}
    paths = [atomic_write(out / f"{name}.png", _bytes(png)) for name, png in pngs.items()]
    paths += [write_table(df, out / f"{name}.csv") for name, df in report.data.items()]
    text = _html(report, pngs)
    paths.append(atomic_write(out / html_name,
                              lambda tmp: tmp.write_text(text, encoding="utf-8")))
    return paths
