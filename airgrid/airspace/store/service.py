"""The durable store of flight intents and geofences: SQLite by default, PostgreSQL by URL.

One interface (:class:`Store`), two backends:

* **SQLite** (default): one file ``airgrid.sqlite`` under a data directory, WAL journal,
  ``synchronous=FULL``, ``foreign_keys=ON``. Every write is a ``BEGIN IMMEDIATE``
  transaction, so one writer at a time across all processes, taken in turns on a lock
  file beside it (:mod:`~airgrid.airspace.store.writer_turn`); readers never block.
* **PostgreSQL** (``postgresql://...`` URL, psycopg 3): every write is a READ COMMITTED
  transaction that first takes an administrative advisory lock (shared by acceptances
  and state changes; exclusive for geofence changes, bulk restores and migrations); a
  transaction that decides on intents or changes their state also takes ONE advisory
  lock for intents (``pg_advisory_xact_lock``), so those run one at a time across every
  process and server on the database; statements after the locks see everything
  committed before them. Deadlocks, serialisation failures and uniqueness races roll
  back and retry the whole transaction.

On both, candidates for the exact test come from an in-process copy of the holding
intents (:class:`~airgrid.airspace.traffic.holding_index.HoldingIndex`, one per database
and store id in a process, shared by its stores) rather than from a key table. Every
write that changes an intent stamps it with the next store revision (``intents.rev``); a
transaction that uses the copy reads the revision (``max(rev)``) under the intents lock
and first loads whatever was stamped since the copy's revision (everything, if the
revision went back), so writes by other processes, servers and connections are always
seen. On PostgreSQL, a transaction's first attempt decides on the copy as it stands instead
and has the server confirm, right after the locks, that the store is still at the copy's
revision (and geofence revision, and the new id free); if it is not, the transaction is
aborted before it commits or answers anything and runs again, reading. The copy takes
over an acceptance only once its transaction has committed. A
database must not be replaced, while stores have it open, by a copy that went on with
another history.

Accepting an intent is ONE transaction: lock, bring the copy to the store's revision and
take the candidates from it, run the exact test
(:func:`~airgrid.airspace.traffic.conflicts.find_conflicts`), check grid-mode voxel-slots and active
prohibited geofences, pre-empt lower-priority intents if allowed, write the intent and
its volumes at the next revision; a refusal is recorded in the same transaction. The
guarantee, also with concurrent writers in separate processes: no two intents that hold
airspace (accepted, activated, nonconforming or contingent) conflict, and an intent
reported accepted is committed (``synchronous=FULL`` / PostgreSQL's default
``synchronous_commit=on``).

Invalid input raises a specific :class:`~airgrid.airspace.errors.AirspaceError` before
the transaction writes anything; a failed transaction is rolled back whole.

Schema changes are versioned migrations (:data:`~airgrid.airspace.store.schema.MIGRATIONS`, table ``schema_version``),
applied in order under the write lock when a store is opened.

Rules
-----
* **Pre-emption** takes airspace only from intents of strictly lower priority that are
  accepted but not activated (an airborne flight is never displaced). They are set to
  ``cancelled`` with ``preempted_by`` and a reason (never deleted), lose their grid
  claims in the same transaction (and leave the in-process copies after it), and
  are returned in :attr:`~airgrid.airspace.store.answers.Decision.preempted` with all their volumes. If any conflict is not pre-emptable, nothing is pre-empted and the intent is refused.
* **Conformance**: telemetry moves an airborne intent between activated, nonconforming
  and contingent (:mod:`~airgrid.airspace.store.conformance`); all three keep holding
  their airspace, and none is ever pre-empted.
* **History**: every state change after acceptance (activation, end, cancellation,
  pre-emption, conformance) is written to ``intent_events`` in the transaction that makes it.
* **Geofences** are met without a separation margin: their footprint (circles already
  circumscribed and grown) and conservatively resolved band are the protected volume.
  Creating a prohibited geofence reports the intents it now conflicts with; it does not
  cancel them.
* **Fixes** avoid every holder (not only blocking ones): both searches run the exact test
  among the holders of one snapshot of the store, and a value found is then checked against
  that snapshot's prohibited geofences and the grid claims before being proposed. They are
  not held: a later submission may still be refused. A submission that names fixes it
  takes (``take_fix``) has them searched inside its deciding transaction instead, and the
  request moved by the first one found is decided again and accepted there, atomically.
* **Grid mode** claims are the tier's voxels overlapping each unbuffered volume per time
  slot; the exact test still applies on top.
* **Policy** (tiers, separation, keys, grid tiers) is stored at creation and fixed, so every
  process computes the same keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Self

from airgrid.airspace.errors import IntentError
from airgrid.airspace.store.accounts import _AccountsPart
from airgrid.airspace.store.answers import Decision
from airgrid.airspace.store.backends import _Postgres, _Sqlite, connect
from airgrid.airspace.store.conformance import _ConformancePart
from airgrid.airspace.store.deciding import _Replacing
from airgrid.airspace.store.fixes import _FixesPart, fix_kinds
from airgrid.airspace.store.index_sync import _Accepted, _index_accepted, _shared_index
from airgrid.airspace.store.jobs import _JobsPart
from airgrid.airspace.store.lifecycle import _LifecyclePart
from airgrid.airspace.store.policy import AirspacePolicy, ProposalSettings
from airgrid.airspace.store.refusals import _RefusalsPart
from airgrid.airspace.store.restore import _RestorePart
from airgrid.airspace.store.rows import _read_intents
from airgrid.airspace.store.schema import migrate
from airgrid.airspace.store.submissions import SubmissionKey, _SubmissionsPart
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.terrain import Dem


class Store(
    _FixesPart,
    _LifecyclePart,
    _ConformancePart,
    _RestorePart,
    _AccountsPart,
    _SubmissionsPart,
    _JobsPart,
    _RefusalsPart,
):
    """Flight intents and geofences, durable, behind one interface.

    Open with :func:`open_store`. A Store holds one connection: use one per thread or
    process (processes may share the same database freely).

    The parts it is made of share that connection and its transaction discipline
    (:class:`~airgrid.airspace.store.core._StoreCore`): geofences
    (:mod:`~airgrid.airspace.store.geofencing`), the acceptance transaction
    (:mod:`~airgrid.airspace.store.deciding`), fixes and terrain notices
    (:mod:`~airgrid.airspace.store.fixes`), reads and state changes
    (:mod:`~airgrid.airspace.store.lifecycle`), telemetry, history and alerts
    (:mod:`~airgrid.airspace.store.conformance`), bulk restores
    (:mod:`~airgrid.airspace.store.restore`), API keys (:mod:`~airgrid.airspace.store.accounts`),
    recorded submissions (:mod:`~airgrid.airspace.store.submissions`), background jobs
    (:mod:`~airgrid.airspace.store.jobs`) and refused submissions
    (:mod:`~airgrid.airspace.store.refusals`).
    """

    def __init__(
        self,
        backend: _Sqlite | _Postgres,
        policy: AirspacePolicy | None,
        dem: Dem | None,
        proposals: ProposalSettings,
    ) -> None:
        self._db = backend
        self._dem = dem
        self.proposal_settings = proposals
        self._fences = None
        self.policy = migrate(backend, policy)
        self._pair_minima = {}
        self._index = _shared_index(backend)

    # -- connection -----------------------------------------------------------------------
    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgres"``."""
        return self._db.name

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """Highest applied migration."""
        return int(self._db.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    # -- intents: submission --------------------------------------------------------------
    def submit(
        self,
        request: IntentRequest,
        *,
        preempt: bool = True,
        propose: bool = True,
        submission: SubmissionKey | None = None,
        record_refusal: bool = True,
        max_shift_s: float | None = None,
        take_fix: Sequence[str] = (),
    ) -> Decision:
        """Check an intent and accept it if it conflicts with nothing that holds airspace.

        Parameters
        ----------
        request
            The intent (an id is assigned if it has none).
        preempt
            Allow taking airspace from lower-priority intents that are accepted but not
            yet activated. They are cancelled with ``preempted_by`` set, and returned in
            :attr:`~airgrid.airspace.store.answers.Decision.preempted`. An activated (airborne) intent is never pre-empted.
        propose
            When refused, search fixes (:attr:`~airgrid.airspace.store.answers.Decision.proposals`).
        submission
            The caller's idempotency key, recorded by an acceptance (:meth:`submission`).
        record_refusal
            When refused, record the request, its volumes and conflict points for the
            analytics (:func:`~airgrid.airspace.store.refusals._write_refusal`).
        max_shift_s
            The longest departure delay the caller would take (seconds, >= 0): a proposed
            shift is at most this and the store's
            :attr:`~airgrid.airspace.store.policy.ProposalSettings.max_shift_s` (default:
            the latter alone). The search then looks no further ahead than the caller
            will go.
        take_fix
            Fix kinds (:data:`~airgrid.airspace.store.fixes.FIX_KINDS`) the caller takes,
            in order: a refused request moved by the first one found free is decided again
            and accepted in the same transaction, under its id, with its
            :attr:`~airgrid.airspace.store.answers.Decision.fix` and the refusal as
            submitted recorded (see :meth:`~airgrid.airspace.store.fixes._FixesPart._taken_fix`).
            A refusal that remains proposes only the kinds not named.

        Returns
        -------
        Decision
            Accepted, or refused with every conflict listed.

        Raises
        ------
        IntentTierError
            Unknown tier.
        DuplicateIntentError
            The id is taken.
        StoreBusyError
            The write lock could not be had in time.
        IntentError
            ``max_shift_s`` is negative or not a number, or ``take_fix`` names an unknown
            kind or one kind twice.
        """
        if max_shift_s is not None and not max_shift_s >= 0:
            raise IntentError(f"max_shift_s must be a number >= 0, got {max_shift_s!r}")
        kinds = fix_kinds(take_fix)
        prep = self._prepare(request)
        bounds = self._band_limits(prep.request)
        fixing = None
        if kinds:
            fixing = partial(self._taken_fix, kinds=kinds, max_shift_s=max_shift_s, bounds=bounds)
        decision = self._accepting(
            lambda: self._decide(
                prep,
                preempt=preempt,
                write=True,
                submission=submission,
                record_refusal=record_refusal,
                fixing=fixing,
            )
        )
        return self._answered(
            decision, propose=propose, max_shift_s=max_shift_s, searched=kinds, bounds=bounds
        )

    def check(
        self, request: IntentRequest, *, preempt: bool = True, replacing: str | None = None
    ) -> Decision:
        """What :meth:`submit` (or, with ``replacing``, :meth:`replace_intent`) would answer
        now, without writing or proposing anything.

        ``accepted`` then means "would be accepted"; nothing is held, so a later
        :meth:`submit` may still be refused.
        """
        swap = None if replacing is None else _Replacing(replacing)
        return self._answered(
            self._verdict(request, preempt=preempt, replacing=swap), propose=False
        )

    def replace_intent(
        self,
        old_id: str,
        request: IntentRequest,
        *,
        activate: bool = False,
        preempt: bool = True,
        propose: bool = True,
    ) -> Decision:
        """Replace intent ``old_id`` by ``request`` in one transaction (a modification).

        The request is decided as by :meth:`submit`, except that the intent it replaces
        is not in its way. Accepted, the new intent is written, ``old_id`` is cancelled
        with the reason "replaced by intent <new id>" (its keys and grid claims released)
        and recorded in its history, all in the same transaction: no other intent can
        take the airspace in between. Refused, nothing changes and ``old_id`` keeps its
        airspace.

        Parameters
        ----------
        old_id
            The intent replaced; it must hold airspace.
        request
            The new intent (a new id: ids are never reused).
        activate
            Write the new intent activated (the flight is airborne) rather than accepted.
        preempt, propose
            As for :meth:`submit`.

        Returns
        -------
        Decision

        Raises
        ------
        StateTransitionError
            ``old_id`` does not exist or no longer holds airspace.
        DuplicateIntentError
            The new id is taken.
        """
        prep = self._prepare(request)
        swap = _Replacing(old_id, activate)
        decision = self._accepting(
            lambda: self._decide(prep, preempt=preempt, write=True, replacing=swap)
        )
        return self._answered(decision, propose=propose)

    def _accepting(self, decide: Callable[[], tuple[Decision, _Accepted | None]]) -> Decision:
        """Run ``decide`` as the acceptance transaction and have the in-process copy take
        a committed acceptance over.

        The transactions of this process's threads take turns on the copy's
        :attr:`~airgrid.airspace.traffic.holding_index.HoldingIndex.deciding` lock, from
        their start until the copy holds their acceptance. They are one after the other
        in the database anyway (the intents lock), and so none starts on a copy that a
        commit of this process has just left behind: on PostgreSQL such a start would
        have its revisions refused and decide again, reading.
        """
        with self._index.deciding:
            decision, accepted = self._db.run(decide, intents=True)
            if accepted is not None:  # committed: the in-process copy takes the change over
                _index_accepted(self._index, accepted)
        return decision

    def accepted_decision(self, intent_id: str) -> Decision:
        """The answer to an accepted submission, rebuilt from the store (for a retry whose
        first answer was lost).

        It carries the intent and the intents it pre-empted as they stand now, and the
        terrain notices of its volumes (computed again, from the same grid). Its
        ``conflicts`` are empty: those with the pre-empted intents were resolved by
        cancelling them.

        Raises
        ------
        IntentNotFoundError
            No such id.
        """
        fi = self.get(intent_id)
        request = IntentRequest(fi.operator, fi.priority, fi.tier, fi.volumes, fi.id)
        victims = _read_intents(self._db, "WHERE i.preempted_by = ?", (intent_id,))
        return self._answered(Decision(True, request, fi, preempted=tuple(victims)), propose=False)


def open_store(
    location: str | Path | None = None,
    *,
    policy: AirspacePolicy | None = None,
    dem: Dem | None = None,
    proposals: ProposalSettings | None = None,
    busy_timeout_s: float = 60.0,
    retries: int = 50,
) -> Store:
    """Open (creating and migrating if needed) a store.

    Parameters
    ----------
    location
        ``postgresql://...`` (or ``postgres://``) for PostgreSQL; otherwise a data
        directory for SQLite (the file is ``<dir>/airgrid.sqlite``); default ``var/``
        under the working directory.
    policy
        Tiers, separation, keys and grid mode; stored when the store is created. Passing
        one that differs from the stored one is an error; omit it to use the stored one.
    dem
        Terrain for geofences whose limits are in true height (without it they use the
        Earth-wide ground extremes, which errs towards larger geofences).
    proposals
        Fix search settings.
    busy_timeout_s
        SQLite: how long a writer waits for the lock.
    retries
        PostgreSQL: attempts per transaction under contention.

    Raises
    ------
    StoreConfigError
        Unusable location or URL, or a conflicting policy.
    SchemaVersionError
        The database was written by a newer airgrid.
    """
    backend = connect(location, busy_timeout_s, retries)
    try:
        return Store(backend, policy, dem, proposals or ProposalSettings())
    except BaseException:
        backend.close()
        raise


__all__ = ["Store", "open_store"]
