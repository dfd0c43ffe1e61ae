"""``ocrelisim serve``: the web app on this computer (issue 16).

The web modules (FastAPI, uvicorn) load only when the command runs, so the command line's
help stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .._meta import DISCLAIMER

SERVE_HELP = (
    "Start the web app (pages, JSON API at /api, FHIR at /fhir, API docs at /docs) on this "
    "computer; open http://HOST:PORT in a browser. Works offline: every asset ships in the "
    f"package. Nothing typed about a patient is stored or logged. {DISCLAIMER}")


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this computer "
                                           "only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    from .web import serve

    typer.echo(f"ocrelisim web app on http://{host}:{port} (Ctrl+C to stop). {DISCLAIMER}")
    serve(host=host, port=port)
