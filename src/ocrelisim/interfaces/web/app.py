"""The FastAPI application factory and ``ocrelisim serve``.

Offline by construction: Plotly and Swagger UI are served from ``static/`` in the package
(see ``static/*/LICENSE.txt``); no page names a CDN, font or script elsewhere. Requests are
guarded by :class:`._guard.GuardMiddleware` (body-size limit, no NaN in JSON) and the handlers
of :func:`._guard.install` (4xx naming the field, never a traceback). Simulations are
serialised by :data:`._compute.ENGINE_LOCK`. Access logs are off: URLs carry no patient data
(forms use POST), and nothing about a patient is stored.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ... import __version__
from ..._meta import DISCLAIMER
from . import _api, _fhir, _guard, _pages

STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self' 'unsafe-inline' "
                                "'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; connect-src 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Only this server's own scripts and styles (Plotly needs eval and inline styles)."""


def create_app(*, max_body: int = _guard.MAX_BODY_BYTES) -> FastAPI:
    """The web app: pages at ``/``, the JSON API at ``/api``, FHIR at ``/fhir``, docs at
    ``/docs`` (Swagger UI from the package's static files).

    Parameters
    ----------
    max_body : int
        Largest request body accepted, bytes (larger: 413).
    """
    app = FastAPI(title="ocrelisim", version=__version__, docs_url=None, redoc_url=None,
                  description=f"Ocrelizumab therapy models: pages, JSON API and FHIR. "
                              f"{DISCLAIMER}")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(_pages.router)
    app.include_router(_api.router)
    app.include_router(_fhir.router)
    _guard.install(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="ocrelisim API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
            swagger_ui_parameters={"validatorUrl": None})  # no call to validator.swagger.io

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.add_middleware(_guard.GuardMiddleware, max_body=max_body)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app with uvicorn (one process; access log off: nothing about a patient is
    logged)."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, access_log=False, log_level="info")
