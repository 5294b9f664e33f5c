"""One error shape for the whole API: ``application/problem+json`` (RFC 9457).

Every error answer is a :class:`~airgrid.api.http.schemas.common.Problem`: ``type``, ``title``,
``status``, ``detail`` (what to fix), ``instance`` (the request path) and, for
validation errors, an ``errors`` list. Domain errors become HTTP errors here and
nowhere else. The contract is closed: only airgrid's own error families (the roots
:class:`ApiError`, :class:`~airgrid.geo.errors.GeoError`,
:class:`~airgrid.airspace.errors.AirspaceError`,
:class:`~airgrid.routing.errors.RoutingError` and
:class:`~airgrid.terrain.errors.TerrainError`) reach the client with their message:

===================================================  ======
exception                                            status
===================================================  ======
a conflict (:class:`ConflictError`, duplicate id)    409
an :class:`ApiError` with a ``status`` (limits...)  its own
a domain ``TimeoutError`` (store busy)               503
a domain ``LookupError`` (unknown id, outside grid)  404
a domain ``ValueError`` (every airgrid input error)  422
request validation (pydantic)                        422
anything else                                        500
===================================================  ======

A 500 says only "internal error" and a correlation id (``error_id``), which is logged
with the traceback; the connection stays open for the next request.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airgrid.airspace.errors import (
    AirspaceError,
    ConflictBudgetError,
    DuplicateIntentError,
    GeofenceExistsError,
)
from airgrid.api.http.jsonbody import dump_json
from airgrid.geo.errors import GeoError
from airgrid.routing.errors import RoutingError
from airgrid.terrain.errors import TerrainError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_PREFIX = "urn:airgrid:problem:"
_SLUGS = {404: "not-found", 409: "conflict", 422: "invalid-input", 503: "busy"}
#: Domain errors with a problem type of their own (others take the status's slug).
_DOMAIN_SLUGS: dict[type[Exception], str] = {ConflictBudgetError: "conflict-budget-exceeded"}


class ApiError(Exception):
    """Root of the errors the API layer raises itself.

    Attributes
    ----------
    status
        HTTP status the error answers with, when it sets its own; ``None`` lets
        :func:`status_for` pick one from the error's kind.
    """

    status: int | None = None


class InputError(ApiError, ValueError):
    """A request is well-formed but its values do not make sense together (422)."""


class LimitError(ApiError, ValueError):
    """A request exceeds a configured limit (vertices, area, route length, budget).

    Parameters
    ----------
    detail
        What was too large, the limit, and what to do instead.
    status
        HTTP status to answer (422 by default; 413 for sizes of the request itself).
    """

    def __init__(self, detail: str, status: int = 422) -> None:
        super().__init__(detail)
        self.status = status


class ConflictError(ApiError):
    """The request conflicts with the current state (409).

    Parameters
    ----------
    detail
        What conflicts and how to resolve it.
    extra
        Extension members added to the problem document (``conflicts``, ``fixes`` ...).
    """

    def __init__(self, detail: str, *, slug: str = "conflict", **extra: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.extra = extra


class ProblemResponse(Response):
    """A JSON response with the problem+json media type (the body already serialised)."""

    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    slug: str | None = None,
    errors: list[dict] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    """Build a problem+json response.

    Parameters
    ----------
    status
        HTTP status code.
    detail
        Human-readable explanation telling the client what to fix.
    instance
        The request path the problem occurred at.
    slug
        Last part of the ``type`` URN; defaults to the status phrase.
    errors
        Per-field validation errors.
    headers
        Extra response headers (``WWW-Authenticate`` ...).
    **extra
        Extension members.

    Returns
    -------
    ProblemResponse
    """
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    body: dict[str, Any] = {
        "type": _PREFIX + (slug or phrase.lower().replace(" ", "-").replace("'", "")),
        "title": phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return ProblemResponse(dump_json(body), status_code=status, headers=headers)


#: Error families whose messages are written for clients.
DOMAIN_ERRORS = (ApiError, GeoError, AirspaceError, RoutingError, TerrainError)


def status_for(exc: BaseException) -> int:
    """HTTP status of an error (see the module table); 500 for anything outside the domain."""
    if isinstance(exc, ConflictError | DuplicateIntentError | GeofenceExistsError):
        return 409
    if isinstance(exc, ApiError) and exc.status is not None:
        return exc.status  # LimitError and the other API errors that carry their own status
    if not isinstance(exc, DOMAIN_ERRORS):
        return 500
    if isinstance(exc, TimeoutError):
        return 503
    if isinstance(exc, LookupError):
        return 404
    if isinstance(exc, ValueError):
        return 422
    return 500


def internal_error(scope: Scope, exc: BaseException) -> ProblemResponse:
    """A generic 500 for ``exc``: the traceback goes to the log under a fresh correlation id,
    the client gets only the id."""
    error_id = uuid.uuid4().hex
    log.error(
        "internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"), exc_info=exc
    )
    return problem(
        500,
        f"internal error; quote error_id {error_id} to the operators of this service",
        instance=scope.get("path"),
        slug="internal-error",
        error_id=error_id,
    )


def _validation_items(exc: RequestValidationError) -> list[dict]:
    items = []
    for err in exc.errors():
        items.append(
            {
                "loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return items


def _allowed_methods(request: Request) -> str:
    """Every method the API documents at the request's path (with HEAD and OPTIONS)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = request.app.state.allowed_methods = [
            (
                re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"),
                {m.upper() for m in ops},
            )
            for path, ops in request.app.openapi().get("paths", {}).items()
        ]
    methods = {"OPTIONS"}
    for pattern, ops in table:
        if pattern.match(request.url.path):
            methods |= ops
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


async def _http_exception(request: Request, exc: StarletteHTTPException) -> Response:
    headers = exc.headers
    if exc.status_code == 405:  # the Allow header names every method of the path, not one route's
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
    return problem(exc.status_code, detail, instance=request.url.path, headers=headers)


async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
    items = _validation_items(exc)
    first = items[0] if items else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"]) or "request"
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return problem(
        422,
        f"{where}: {first['msg']}{more}",
        instance=request.url.path,
        slug="validation-error",
        errors=items,
    )


async def _domain(request: Request, exc: Exception) -> ProblemResponse:
    status = status_for(exc)
    if status == 500:
        return internal_error(request.scope, exc)
    if isinstance(exc, ConflictError) and exc.extra:  # may list thousands of conflicts
        return await run_in_threadpool(
            problem, status, str(exc), instance=request.url.path, slug=exc.slug, **exc.extra
        )
    extra = exc.extra if isinstance(exc, ConflictError) else {}
    slug = (
        getattr(exc, "slug", None)
        or _DOMAIN_SLUGS.get(type(exc))
        or ("limit-exceeded" if isinstance(exc, LimitError) else _SLUGS.get(status))
    )
    headers = {"Retry-After": "1"} if status == 503 else None
    return problem(
        status,
        str(exc) or type(exc).__name__,
        instance=request.url.path,
        slug=slug,
        headers=headers,
        **extra,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the one problem+json handler family on ``app``.

    Domain errors are answered by exception handlers; anything else is answered by
    :class:`InternalErrorMiddleware` (installed here, innermost of the middlewares added so
    far), which does not re-raise, so the server keeps the connection open.
    """
    app.add_exception_handler(StarletteHTTPException, _http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    for cls in (ConflictError, DuplicateIntentError, GeofenceExistsError, *DOMAIN_ERRORS):
        app.add_exception_handler(cls, _domain)
    app.add_middleware(InternalErrorMiddleware)


class InternalErrorMiddleware:
    """Answer any exception that no handler took with a generic 500 (see :func:`internal_error`).

    Parameters
    ----------
    app
        The wrapped ASGI app.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:  # a response is half sent: only closing the connection can end it
                raise
            await internal_error(scope, exc)(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 problem+json.

    A declared ``Content-Length`` over the limit is refused before anything is read;
    a body streamed without one is counted as it arrives and refused as soon as it
    passes the limit, so an oversized upload never reaches a handler in full.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    max_bytes
        Largest accepted body.
    paths
        Exact request paths with a limit of their own (uploads).
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, paths: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = dict(paths or {})

    def _too_large(self, scope: Scope, limit: int) -> ProblemResponse:
        return problem(
            413,
            f"request body exceeds {limit} bytes; send less data per request",
            instance=scope.get("path"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.max_bytes)
        headers: MutableMapping[bytes, bytes] = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await problem(400, "Content-Length must be an integer", instance=scope.get("path"))(
                    scope, receive, send
                )
                return
            if too_big:
                await self._too_large(scope, limit)(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise StarletteHTTPException(
                        413,
                        f"request body exceeds {limit} bytes; send less data per request",
                    )
            return message

        await self.app(scope, counted, send)
