"""Models of the audit-job routes: the logs to audit, jobs with their progress and results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

#: The job id of the OpenAPI examples (the POST example creates it, the others read it).
EXAMPLE_JOB_ID = "audit-example-0001"
#: The server-side log the POST example names (``examples/flight_log.csv`` copied into
#: the server's flight-log folder).
EXAMPLE_LOG = "examples/flight_log.csv"


class AuditFiles(BaseModel):
    """Flight logs already on the server, named relative to its flight-log folder
    (``AIRGRID_AUDIT_LOG_DIR``). A folder stands for every log file under it."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"files": [EXAMPLE_LOG]}]}
    )

    files: list[str] = Field(
        min_length=1,
        max_length=1_000,
        description="Relative paths of files (.csv, .parquet, .geojson, .ulg, .json) or folders.",
    )


class JobLinks(BaseModel):
    """Where the job and its results are."""

    self: str
    violations: str
    summary: str
    parquet: str


_JOB_EXAMPLE: dict[str, Any] = {
    "id": EXAMPLE_JOB_ID,
    "owner": "regulator-1",
    "state": "running",
    "progress": 0.5,
    "step": "auditing",
    "created_at": "2025-03-03T08:00:00Z",
    "started_at": "2025-03-03T08:00:01Z",
    "finished_at": None,
    "parameters": {"logs": [EXAMPLE_LOG], "from": None, "to": None},
    "error": "",
    "result": {},
    "links": {
        "self": f"/v1/audits/{EXAMPLE_JOB_ID}",
        "violations": f"/v1/audits/{EXAMPLE_JOB_ID}/violations",
        "summary": f"/v1/audits/{EXAMPLE_JOB_ID}/summary",
        "parquet": f"/v1/audits/{EXAMPLE_JOB_ID}/violations.parquet",
    },
}


class AuditJobPublic(BaseModel):
    """An audit job: its state, progress and, once it succeeded, what it found."""

    model_config = ConfigDict(json_schema_extra={"examples": [_JOB_EXAMPLE]})

    id: str
    owner: str
    state: Literal["queued", "running", "succeeded", "failed"]
    progress: float = Field(ge=0, le=1, description="Fraction done.")
    step: str = Field(description="What the job is doing now, or did last.")
    created_at: AwareDatetime
    started_at: AwareDatetime | None
    finished_at: AwareDatetime | None
    parameters: dict[str, Any]
    error: str = Field(description="Why the job failed (file, row and field for a bad log).")
    result: dict[str, Any] = Field(
        description="Counts once succeeded: violations, certain, flights, fixes, "
        "rejected_rows (with the first ones), outside_window."
    )
    links: JobLinks


class AuditJobList(BaseModel):
    """Audit jobs, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"jobs": [_JOB_EXAMPLE]}]})

    jobs: list[AuditJobPublic]


class ViolationCollection(BaseModel):
    """One page of a job's violations as a GeoJSON FeatureCollection (RFC 7946)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"type": "FeatureCollection", "features": [], "numberMatched": 0,
                 "numberReturned": 0, "next": None}
            ]
        }
    )  # fmt: skip

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    numberMatched: int = Field(description="Violations in all.")
    numberReturned: int
    next: str | None = Field(description="The next page, if any.")
