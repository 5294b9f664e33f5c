"""Audit jobs for regulators: submit flight logs, follow the job, fetch what it found.

Only regulators and admins may use these routes (others get 403); they see every job,
audits being the authority's shared work. A job audits either

* one **uploaded** log: the raw file as the body (any media type but JSON, up to
  ``max_audit_upload_bytes``) with ``format`` naming it; or
* logs **already on the server**: a JSON body ``{"files": [...]}`` of paths relative to
  the server's flight-log folder (``audit_log_dir``), a folder standing for every log
  under it. Paths are resolved (symbolic links too) and must stay inside that folder.

Options are query parameters for both: ``from``/``to`` (the window of fixes audited),
``strict`` (fail the job on any rejected row), ``operator`` (of logs that name none),
``job_id`` (a client-chosen id; 409 if taken). What can be checked without reading the
logs is checked up front (422); a log that cannot be read, rejected rows under ``strict``
and logs over the per-job point limit fail the job with the reader's message.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, ValidationError

from airgrid.airspace.store.jobs import Job
from airgrid.api.http.audit_jobs import KIND, new_job_id
from airgrid.api.http.audit_task import audit_folder
from airgrid.api.http.errors import ApiError, ConflictError, InputError, LimitError
from airgrid.api.http.jsonbody import json_response
from airgrid.api.http.routes.deps import V1, Services, ServicesDep, WriterDep
from airgrid.api.http.schemas.audits import (
    EXAMPLE_JOB_ID,
    AuditFiles,
    AuditJobList,
    AuditJobPublic,
    JobLinks,
    ViolationCollection,
)
from airgrid.api.http.schemas.common import Problem, error_responses, links
from airgrid.audit.readers import FORMATS

#: Upload format -> the suffix its reader is chosen by.
UPLOAD_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "geojson": ".geojson", "ulog": ".ulg",
                 "rid": ".json"}  # fmt: skip
#: Most violations one page returns.
MAX_PAGE = 1_000
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"

JobId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._-]{1,64}$", examples=[EXAMPLE_JOB_ID])]

router = APIRouter(prefix=f"{V1}/audits", tags=["audits"], responses=error_responses(401, 403, 422))

_JOB_LINKS = links(
    "job_id",
    "$response.body#/id",
    GetAudit="get_audit_v1_audits__job_id__get",
    GetAuditViolations="violations_v1_audits__job_id__violations_get",
)
_BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "description": "Every audit worker is busy and the queue is full; retry later.",
    }
}


def _utc(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def job_public(job: Job) -> AuditJobPublic:
    """The public form of a stored audit job."""
    base = f"{V1}/audits/{job.id}"
    return AuditJobPublic(
        id=job.id,
        owner=job.owner,
        state=job.state,
        progress=job.progress,
        step=job.step,
        created_at=datetime.fromtimestamp(job.created_at, UTC),
        started_at=_utc(job.started_at),
        finished_at=_utc(job.finished_at),
        parameters=job.parameters,
        error=job.error,
        result=job.result,
        links=JobLinks(
            self=base,
            violations=f"{base}/violations",
            summary=f"{base}/summary",
            parquet=f"{base}/violations.parquet",
        ),
    )


def server_logs(root: Path, names: list[str]) -> list[Path]:
    """The log files named relative to ``root`` (a folder: every log file under it).

    Raises
    ------
    InputError
        A name that leaves ``root`` (absolute, ``..``, a symbolic link out), does not
        exist, or is not a log file; or no log file in all.
    """
    base = root.resolve()
    out: list[Path] = []
    for name in names:
        path = (base / name).resolve()
        if not path.is_relative_to(base):
            raise InputError(f"files: {name!r} is outside the server's flight-log folder")
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS
            )
            out += [p for p in found if p.resolve().is_relative_to(base)]
        elif path.is_file():
            if path.suffix.lower() not in FORMATS:
                raise InputError(
                    f"files: {name!r} is not a flight log (suffixes: {', '.join(sorted(FORMATS))})"
                )
            out.append(path)
        else:
            raise InputError(f"files: {name!r} does not exist in the server's flight-log folder")
    if not out:
        raise InputError("files: no flight log found under the names given")
    return out


def _submit(
    services: Services, job_id: str, owner: str, body: bytes, json_body: bool, params: dict
) -> Job:
    """Check the logs, keep an upload in the job's folder, and queue the job (in a thread)."""
    settings = services.settings
    if services.stores.get().job(job_id) is not None:
        raise ConflictError(f"an audit job with id {job_id!r} exists; choose another job_id")
    root = settings.audit_log_dir
    if json_body:
        if params["format"] is not None:
            raise InputError("format names an uploaded log; leave it out with a JSON body")
        try:
            files = AuditFiles.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise InputError(f"{where}: {first['msg']}") from None
        logs = server_logs(root, files.files)
        names = [str(p.relative_to(root.resolve())) for p in logs]
    else:
        if params["format"] is None:
            raise InputError(
                "an uploaded log needs format (csv, parquet, geojson, ulog, rid); or send "
                'a JSON body {"files": [...]} naming logs on the server'
            )
        if not body:
            raise InputError("the uploaded log is empty")
        folder = audit_folder(settings, job_id)
        name = f"upload{UPLOAD_SUFFIX[params['format']]}"
        (folder / "input").mkdir(parents=True, exist_ok=True)
        (folder / "input" / name).write_bytes(body)
        logs, names = [folder / "input" / name], [name]
    recorded = {**params, "logs": names}
    try:
        return services.audits.submit(job_id, owner, logs, names, recorded)
    except BaseException:
        if not json_body:  # nothing will read the upload
            shutil.rmtree(audit_folder(settings, job_id), ignore_errors=True)
        raise


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": AuditFiles.model_json_schema()},
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"},
                "description": "One flight log as it is (its format in the format parameter).",
            },
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=AuditJobPublic,
    responses={
        202: {"links": _JOB_LINKS, "description": "Queued; follow Location."},
        **error_responses(409, 413),
        **_BUSY,
    },
    openapi_extra=_REQUEST_BODY,
)
async def create_audit(
    request: Request,
    services: ServicesDep,
    me: WriterDep,
    fmt: Annotated[
        Literal["csv", "parquet", "geojson", "ulog", "rid"] | None,
        Query(alias="format", description="Format of an uploaded log (not with a JSON body)."),
    ] = None,
    t_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    t_to: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    strict: Annotated[bool, Query(description="Fail the job if any row is rejected.")] = False,
    operator: Annotated[str, Query(min_length=1, max_length=100)] = "unknown",
    contingent_after_s: Annotated[float, Query(gt=0, le=86_400)] = 30.0,
    job_id: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,64}$", examples=[EXAMPLE_JOB_ID])
    ] = None,
) -> Response:
    """Start an audit job of flight logs against the geofences (the shipped airport zones
    and the stored ones), the served grid's tiers and the stored intents. Answers 202 with
    the queued job and its ``Location``."""
    if t_from is not None and t_to is not None and t_from >= t_to:
        raise InputError("from must be before to")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    json_body = media == "application/json"
    limit = (
        services.settings.max_audit_upload_bytes
        if not json_body
        else services.settings.max_body_bytes
    )
    body = await request.body()
    if len(body) > limit:
        raise LimitError(f"the body has {len(body)} bytes, the limit is {limit}", status=413)
    params: dict[str, Any] = {
        "format": fmt,
        "from": None if t_from is None else t_from.isoformat(),
        "to": None if t_to is None else t_to.isoformat(),
        "strict": strict,
        "operator": operator,
        "contingent_after_s": contingent_after_s,
    }
    job = await run_in_threadpool(
        _submit, services, job_id or new_job_id(), me.name, body, json_body, params
    )
    out = json_response(job_public(job), status_code=202)
    out.headers["Location"] = f"{V1}/audits/{job.id}"
    return out


@router.get("", response_model=AuditJobList)
def list_audits(
    services: ServicesDep,
    me: WriterDep,
    owner: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    """Audit jobs, newest first (only ``owner``'s when given)."""
    services.audits.reap()
    jobs = services.stores.get().list_jobs(kind=KIND, owner=owner, limit=limit, offset=offset)
    return json_response(AuditJobList(jobs=[job_public(j) for j in jobs]))


def _job(services: Services, job_id: str) -> Job:
    services.audits.reap()
    job = services.stores.get().job(job_id)
    if job is None or job.kind != KIND:
        raise _NotFound(f"no audit job {job_id!r}")
    return job


class _NotFound(ApiError, LookupError):
    """No audit job of that id (404)."""

    status = 404


def _results(services: Services, job_id: str) -> Path:
    """The result folder of a job that succeeded (409 while it has none)."""
    job = _job(services, job_id)
    if job.state != "succeeded":
        why = f": {job.error}" if job.error else ""
        raise ConflictError(
            f"audit job {job_id} is {job.state}{why}; results exist once it has succeeded",
            slug="job-not-finished",
        )
    return Path(job.result_dir)


@router.get("/{job_id}", response_model=AuditJobPublic, responses=error_responses(404))
def get_audit(services: ServicesDep, me: WriterDep, job_id: JobId) -> Response:
    """An audit job: state, progress (fraction and step), parameters, error or result counts."""
    return json_response(job_public(_job(services, job_id)))


def _features(path: Path, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the violations in ``path`` as GeoJSON Features, and how many there are."""
    import pyarrow.parquet as pq
    import shapely

    table = pq.read_table(path)
    page = table.slice(offset, limit).to_pandas()
    if not len(page):
        return [], table.num_rows
    geoms = shapely.to_geojson(shapely.from_wkb(page["geometry"].to_numpy()))
    props = page.drop(columns="geometry")
    for col in ("t_first", "t_last"):
        props[col.replace("t_", "time_")] = [
            datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z") for t in props[col]
        ]
    records = json.loads(props.to_json(orient="records", double_precision=15))
    return [
        {"type": "Feature", "geometry": json.loads(g), "properties": r}
        for g, r in zip(geoms, records)
    ], table.num_rows


@router.get(
    "/{job_id}/violations",
    response_model=ViolationCollection,
    responses={
        200: {"content": {"application/geo+json": {}}},
        **error_responses(404, 409),
    },
)
def violations(
    services: ServicesDep,
    me: WriterDep,
    job_id: JobId,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> Response:
    """One page of a succeeded job's violations as a GeoJSON FeatureCollection (lon/lat),
    each with its evidence: flight, operator, rule, object, certainty, first and last fix
    and time, duration, largest excess, cell and voxel; ``next`` links the next page."""
    out = _results(services, job_id)
    feats, total = _features(out / "violations.parquet", offset, limit)
    nxt = offset + len(feats)
    doc = ViolationCollection(
        features=feats,
        numberMatched=total,
        numberReturned=len(feats),
        next=f"{V1}/audits/{job_id}/violations?offset={nxt}&limit={limit}" if nxt < total else None,
    )
    resp = json_response(doc)
    resp.media_type = "application/geo+json"
    resp.headers["content-type"] = "application/geo+json"
    return resp


_SUMMARY_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
_SUMMARY_RESPONSES = {
    200: {"content": {"text/markdown": {"schema": {"type": "string"}},
                      "text/html": {"schema": {"type": "string"}}}},
    **error_responses(404, 409),
}  # fmt: skip


def _summary(services: Services, job_id: str, kind: str) -> Response:
    name = "summary.md" if kind == "md" else "summary.html"
    text = (_results(services, job_id) / name).read_text(encoding="utf-8")
    return Response(text, media_type=_SUMMARY_TYPES[kind])


@router.get("/{job_id}/summary", response_class=Response, responses=_SUMMARY_RESPONSES)
def summary(
    services: ServicesDep,
    me: WriterDep,
    job_id: JobId,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The per-operator summary: Markdown, or HTML when ``Accept`` prefers ``text/html``."""
    wants_html = accept is not None and "text/html" in accept and "text/markdown" not in accept
    return _summary(services, job_id, "html" if wants_html else "md")


@router.get("/{job_id}/summary.md", response_class=Response, responses=_SUMMARY_RESPONSES)
def summary_markdown(services: ServicesDep, me: WriterDep, job_id: JobId) -> Response:
    """The per-operator summary as Markdown."""
    return _summary(services, job_id, "md")


@router.get("/{job_id}/summary.html", response_class=Response, responses=_SUMMARY_RESPONSES)
def summary_html(services: ServicesDep, me: WriterDep, job_id: JobId) -> Response:
    """The per-operator summary as a standalone HTML page."""
    return _summary(services, job_id, "html")


@router.get(
    "/{job_id}/violations.parquet",
    response_class=FileResponse,
    responses={
        200: {"content": {PARQUET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(404, 409),
    },
)
def violations_parquet(services: ServicesDep, me: WriterDep, job_id: JobId) -> FileResponse:
    """Every violation as Parquet (the geometry as WKB, lon/lat)."""
    path = _results(services, job_id) / "violations.parquet"
    return FileResponse(
        path, media_type=PARQUET_MEDIA_TYPE, filename=f"audit-{job_id}-violations.parquet"
    )
