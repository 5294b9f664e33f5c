"""API keys: bearer tokens mapped to principals with a role.

A key is ``agk_`` followed by 32 random bytes (URL-safe base64). Only its SHA-256
is stored, in the flight store's ``api_keys`` table
(:mod:`airgrid.airspace.store.accounts`). A request's token is hashed and looked
up by that hash, so no secret is ever compared byte by byte and a leaked database
holds no usable key. ``airgrid keys create`` prints a new token once.

Roles, from least to most powerful in what they may write:

* ``operator``: submits flight intents and sees or changes only its own;
* ``planner``: plans routes and submits intents of its own;
* ``regulator``: writes geofences, sees every intent, may cancel any;
* ``admin``: everything.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from airgrid.api.http.errors import ApiError

if TYPE_CHECKING:
    from airgrid.airspace.store.service import Store

TOKEN_PREFIX = "agk_"


class Role(StrEnum):
    """What a principal may do (see the module docstring)."""

    OPERATOR = "operator"
    PLANNER = "planner"
    REGULATOR = "regulator"
    ADMIN = "admin"


class ApiKeyError(ApiError, ValueError):
    """An API key request is invalid (unknown role, empty name)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling.

    Attributes
    ----------
    name
        The principal's name; owner of the intents it submits.
    role
        Its role.
    key_id
        Short public id of the key used (first characters of its hash).
    """

    name: str
    role: Role
    key_id: str


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    key_id: str
    name: str
    role: Role
    created_at: float
    revoked: bool


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (the only form a key is stored in)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class KeyStore:
    """API keys: tokens made and hashed here, kept in the store's ``api_keys`` table.

    Parameters
    ----------
    store
        Returns the calling thread's store (:meth:`~airgrid.api.http.stores.StorePool.get`).
    """

    def __init__(self, store: Callable[[], Store]) -> None:
        self.store = store

    def create(self, name: str, role: Role | str) -> tuple[str, KeyInfo]:
        """Create a key; returns the token (shown once) and its stored record.

        Raises
        ------
        ApiKeyError
            Empty name or unknown role.
        """
        name = name.strip()
        if not name:
            raise ApiKeyError("a key needs a non-empty principal name")
        try:
            the_role = Role(role)
        except ValueError:
            raise ApiKeyError(
                f"unknown role {role!r}; roles are {[r.value for r in Role]}"
            ) from None
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = hash_token(token)
        now = time.time()
        self.store().add_api_key(digest, name, the_role.value, now)
        return token, KeyInfo(digest[:12], name, the_role, now, False)

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a token, or None if no live key has that hash."""
        digest = hash_token(token)
        key = self.store().live_api_key(digest)
        return None if key is None else Principal(key.name, Role(key.role), digest[:12])

    def list_keys(self) -> list[KeyInfo]:
        """Every key, oldest first (no secrets: they are not stored)."""
        return [
            KeyInfo(k.key_hash[:12], k.name, Role(k.role), k.created_at, k.revoked)
            for k in self.store().api_keys()
        ]

    def revoke(self, key_id: str) -> int:
        """Revoke the key(s) whose id (hash prefix, at least 8 characters) is ``key_id``.

        Returns
        -------
        int
            Keys revoked.

        Raises
        ------
        ApiKeyError
            An id shorter than 8 characters.
        """
        if len(key_id) < 8 or not all(c in "0123456789abcdef" for c in key_id):
            raise ApiKeyError(
                "give the key id as printed by 'airgrid keys list' (at least 8 hex characters)"
            )
        return self.store().revoke_api_keys(key_id)
