"""Whether a PostgreSQL decision should decide on the process's copy before reading.

A decision's first attempt may skip its reads: it decides on the in-process copy of the
holding intents and has the server confirm, after the locks, that the store is still at
the copy's revision. When the copy is current that saves the reads' round trip. When it
is not (another server process accepted an intent since), the confirm fails, the work
done on the stale copy is thrown away and the decision runs again, reading: a round trip
and a decision lost. One server process almost always finds its copy current (it takes
its own acceptances over); servers that share one database and write in turn mostly find
it stale. :class:`CopyOdds` tells the two apart from what each connection sees.
"""

from __future__ import annotations

#: Weight of the newest observation in the running estimate: about the last 32 decisions
#: count.
WEIGHT = 1 / 32

#: Decide on the copy first while the estimated share of decisions that find it current
#: is at least this. A stale try costs about a round trip plus the decision it throws
#: away, as much as the reads it saves when it succeeds, and once more a round trip: the
#: try pays off above about 1/2 (nothing thrown away) to 2/3 (a decision as dear as a
#: round trip), so the threshold sits between.
THRESHOLD = 0.6


class CopyOdds:
    """A running estimate of how often the in-process copy is at the store's revision
    when a decision begins, on one connection.

    It learns from every decision, whichever way it went: a try on the copy that the
    server confirmed (current) or refused (stale), and a decision that read first, which
    sees whether the copy was at the revision it read. So it keeps learning while tries
    are off and turns them back on when the other writers fall silent.

    Attributes
    ----------
    current
        Exponentially weighted share of decisions that found the copy current (1.0 before
        any observation: one server process is the common case).
    """

    def __init__(self) -> None:
        self.current = 1.0

    def saw(self, current: bool) -> None:
        """Record one decision's finding."""
        self.current += WEIGHT * (float(current) - self.current)

    def worth_trying(self) -> bool:
        """Whether the next decision should try the copy before reading."""
        return self.current >= THRESHOLD
