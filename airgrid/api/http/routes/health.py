"""Health, readiness, Prometheus metrics and the caller's identity."""

from __future__ import annotations

import os
import time

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import airgrid
from airgrid.api.http.auth import Principal
from airgrid.api.http.routes.deps import V1, PrincipalDep, ServicesDep
from airgrid.api.http.schemas.common import error_responses
from airgrid.api.http.schemas.health import HealthPublic, PrincipalPublic, ReadyPublic

router = APIRouter(prefix=V1, tags=["health"])

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Request counters and latency histograms in their own Prometheus registry.

    Each app has its own registry, so several apps in one process (tests) never
    share or clash over metric names. Under several worker processes,
    ``PROMETHEUS_MULTIPROC_DIR`` (set before start-up) makes prometheus_client keep the
    values in files there, which ``/v1/metrics`` sums.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "airgrid_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "airgrid_http_request_duration_seconds",
            "Time from request to the end of the response.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )


class MetricsMiddleware:
    """Count and time every HTTP request by method, route template and status.

    The route label is the matched path template (``/v1/intents/{intent_id}``), never
    the raw path, so ids do not multiply the series; unmatched paths share one label.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    metrics
        Where to record.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, label, str(status)).inc()
            self.metrics.latency.labels(method, label).observe(time.perf_counter() - start)


@router.get("/health", response_model=HealthPublic, summary="Liveness")
async def health() -> HealthPublic:
    """Answers while the process is up; needs no key.

    Runs on the event loop itself, never queued behind the worker threads of other
    requests.
    """
    return HealthPublic(status="ok", version=airgrid.__version__)


@router.get(
    "/ready",
    response_model=ReadyPublic,
    summary="Readiness",
    responses={503: {"model": ReadyPublic, "description": "A dependency is not usable."}},
)
def ready(services: ServicesDep, response: Response) -> ReadyPublic:
    """Whether the grid, the DEM and the database are usable; 503 when one is not."""
    checks = {
        "grid": "ok" if services.grid.n_voxels > 0 else "the grid has no voxels",
        "dem": "ok" if services.dem.data.size > 0 else "the DEM is empty",
    }
    for name, svc in services.pingables().items():
        try:
            svc.ping()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unreachable: {type(exc).__name__}: {exc}"
    ok = all(v == "ok" for v in checks.values())
    if not ok:
        response.status_code = 503
    return ReadyPublic(status="ready" if ok else "not ready", checks=checks)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format.",
        }
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latency histograms per route, in Prometheus text format.

    With several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set, as ``airgrid serve
    --workers N`` does) the figures are summed over every worker.
    """
    registry = request.app.state.metrics.registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/whoami",
    response_model=PrincipalPublic,
    summary="The caller's identity",
    responses=error_responses(401),
)
def whoami(me: PrincipalDep) -> PrincipalPublic:
    """The principal and role of the key sent; the cheapest authenticated call."""
    return _public(me)


def _public(p: Principal) -> PrincipalPublic:
    return PrincipalPublic(name=p.name, role=p.role.value, key_id=p.key_id)
