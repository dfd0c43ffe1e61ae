"""The server's guard rails: a body-size limit, no NaN/infinity in JSON, errors as 4xx.

The framework's defaults answer an oversized body by reading all of it and a JSON ``NaN`` by
accepting it (Python's ``json`` parses it); an exception escaping a handler becomes a 500 with
the traceback in the log. Here a body over the limit is refused with 413 before it is read in
full, a JSON body with ``NaN``/``Infinity`` is refused with 422 naming the constant, every
:class:`~ocrelisim.errors.OcrelisimError` becomes a 422 with its message, and validation errors
name the field (``body.record.age``). Logs carry no request bodies (patients' data).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..._meta import DISCLAIMER
from ...errors import OcrelisimError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1_000_000
"""Largest request body accepted, bytes (a FHIR bundle or a covariate table fits easily)."""

log = logging.getLogger("ocrelisim.web")


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _reject_constant(name: str) -> None:
    raise ValueError(name)


def _json_constants(body: bytes) -> str | None:
    """The first NaN/Infinity constant of a JSON body, or None (also for invalid JSON)."""
    try:
        json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:
        name = str(exc)
        return name if name in ("NaN", "Infinity", "-Infinity") else None
    return None


class GuardMiddleware:
    """Pure ASGI middleware: body-size limit (413) and JSON without NaN/infinity (422).

    The body is read here (at most ``max_body`` bytes) and replayed to the application.
    """

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._guarded(scope, receive, tracked)
        except Exception as exc:  # a bug: no traceback in the log (it may hold patient data)
            log.error("internal error on %s %s: %s", scope.get("method"), scope.get("path"),
                      type(exc).__name__)
            if not started:
                await _problem(500, "internal error (a bug in ocrelisim; nothing was "
                                    "stored)")(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        try:
            body = await self._read(headers, receive)
            kind = headers.get("content-type", "")
            if "json" in kind or not kind:  # FastAPI reads a body without a type as JSON
                bad = _json_constants(body)
                if bad is not None:
                    raise _Refused(422, f"body: {bad} is not a number; JSON numbers must be "
                                        f"finite (no NaN or Infinity)")
        except _Refused as exc:
            await _problem(exc.status, exc.detail)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, headers: dict[str, str], receive: Receive) -> bytes:
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Refused(400, "content-length: not a whole number of bytes")
            if int(declared) > self.max_body:
                raise _Refused(413, self._too_large(int(declared)))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, self._too_large(size))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self, size: int) -> str:
        return (f"body: {size} bytes is over the limit of {self.max_body} bytes; send a "
                f"smaller request (fewer patients or records)")


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "disclaimer": DISCLAIMER}, status_code=status)


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "record", "previous_doses", 0, "date")`` ->
    ``body.record.previous_doses[0].date``."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def validation_detail(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors as ``{"field", "message"}`` (no input echoed: it may be patient data)."""
    out = []
    for err in errors:
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"field": field_name(tuple(err.get("loc", ()))), "message": msg})
    return out


def install(app: FastAPI) -> None:
    """The exception handlers: 422 naming the field; never a 500 with a traceback."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = validation_detail(exc.errors())
        text = "; ".join(f"{d['field']}: {d['message']}" for d in detail)
        return JSONResponse({"detail": text, "errors": detail, "disclaimer": DISCLAIMER},
                            status_code=422)

    @app.exception_handler(OcrelisimError)
    async def _ocrelisim(request: Request, exc: OcrelisimError) -> JSONResponse:
        return _problem(422, " ".join(str(exc).split()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "disclaimer": DISCLAIMER},
                            status_code=exc.status_code, headers=exc.headers)

    # Any other exception is a bug: GuardMiddleware answers 500 and logs its type only.
