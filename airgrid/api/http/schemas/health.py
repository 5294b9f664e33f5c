"""Answers of the health routes: the caller's identity, liveness and readiness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PrincipalPublic(BaseModel):
    """The caller, as identified by its API key."""

    name: str
    role: Literal["operator", "planner", "regulator", "admin"]
    key_id: str = Field(description="First characters of the key's hash (never the key).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "sf-express-ops", "role": "operator", "key_id": "3f9a0c1d2e4b"}]
        }
    )


class HealthPublic(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"]
    version: str

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "version": "0.1.0"}]}
    )


class ReadyPublic(BaseModel):
    """Readiness: every dependency the API needs, with its state."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(description="Per dependency: 'ok' or the failure.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "checks": {"grid": "ok", "dem": "ok", "database": "ok"}}
            ]
        }
    )
