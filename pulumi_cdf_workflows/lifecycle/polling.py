"""How often a wait reads CDF: quick at first, then in proportion to the time already waited."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollSchedule:
    """Delays between status reads: quick at first, then about 10% of the time already waited.

    The first reads come 1 s, 1.5 s, 2.25 s ... apart, capped at 15 s: a run of seconds is noticed within
    a few seconds, one of minutes within 15 s. Past `cap` / `proportion` seconds (150 s) the delay grows
    with the time already waited, up to `max_delay`, so an hour-long run costs a few dozen reads and is
    noticed at most ~10% (and at most 2 minutes) after it ends.
    """

    first: float = 1.0
    factor: float = 1.5
    cap: float = 15.0
    proportion: float = 0.1
    max_delay: float = 120.0

    def delay(self, reads_so_far: int, elapsed: float) -> float:
        """Seconds to sleep before the next read, given the reads made and the seconds waited so far."""
        quick = min(self.first * self.factor ** min(reads_so_far, 64), self.cap)
        return min(max(quick, elapsed * self.proportion), self.max_delay)

    def count_reads(self, duration: float) -> int:
        """How many reads a wait for an execution lasting `duration` seconds makes (for docs and benchmarks)."""
        elapsed, reads = 0.0, 0
        while elapsed < duration:
            elapsed += self.delay(reads, elapsed)
            reads += 1
        return reads
