"""API keys of the service: stored hashes, principal names and roles.

The store keeps what a key is (the hash of its token, a principal name, a role name, when
it was created, whether it is revoked); making tokens, hashing them and what a role may do
belong to the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from airgrid.airspace.store.core import _StoreCore


@dataclass(frozen=True)
class StoredKey:
    """One row of the ``api_keys`` table.

    Attributes
    ----------
    key_hash
        Hash of the token (the only form a key is stored in).
    name
        Principal name.
    role
        Role name.
    created_at
        Unix time of creation.
    revoked
        Whether the key was revoked.
    """

    key_hash: str
    name: str
    role: str
    created_at: float
    revoked: bool


class _AccountsPart(_StoreCore):
    """The ``api_keys`` table."""

    def add_api_key(self, key_hash: str, name: str, role: str, created_at: float) -> None:
        """Store a new live key.

        Parameters
        ----------
        key_hash
            Hash of its token.
        name
            Principal name.
        role
            Role name.
        created_at
            Unix time of creation.
        """
        self._db.run(
            lambda: self._db.execute(
                "INSERT INTO api_keys (key_hash, name, role, created_at, revoked) "
                "VALUES (?, ?, ?, ?, 0)",
                (key_hash, name, role, created_at),
            )
        )

    def live_api_key(self, key_hash: str) -> StoredKey | None:
        """The live (not revoked) key with this hash, or None."""
        row = self._db.execute(
            "SELECT key_hash, name, role, created_at, revoked FROM api_keys "
            "WHERE key_hash = ? AND revoked = 0",
            (key_hash,),
        ).fetchone()
        return None if row is None else _key(row)

    def api_keys(self) -> list[StoredKey]:
        """Every key, oldest first."""
        rows = self._db.execute(
            "SELECT key_hash, name, role, created_at, revoked FROM api_keys "
            "ORDER BY created_at, key_hash"
        ).fetchall()
        return [_key(r) for r in rows]

    def revoke_api_keys(self, hash_prefix: str) -> int:
        """Revoke every live key whose hash starts with ``hash_prefix``, in one transaction.

        Returns
        -------
        int
            Keys revoked.
        """
        db = self._db
        pattern = hash_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return len(
            db.run(
                lambda: db.execute(
                    "UPDATE api_keys SET revoked = 1 "
                    "WHERE key_hash LIKE ? ESCAPE '\\' AND revoked = 0 RETURNING key_hash",
                    (pattern,),
                ).fetchall()
            )
        )


def _key(row: tuple) -> StoredKey:
    h, name, role, created, revoked = row
    return StoredKey(h, name, role, float(created), bool(revoked))


__all__ = ["StoredKey"]
