"""How many CPU threads torch may use: the cores that are free now, or what the user says.

torch starts one thread per core and its threads wait for each other at every operation: with one
of two cores busy with another job, a 2-thread matrix multiply runs at the pace of its slowest
thread, far below the half of the machine that is free (generation at 0.1x its idle speed, seen
here). `configure_threads` counts the cores this process may run on, subtracts the ones other
processes keep busy (from `/proc/stat`, over a short look), and sets torch to that many threads.
`--threads N` (the `FUNREASON_THREADS` variable, which subprocesses inherit) overrides it.
"""

from __future__ import annotations

import logging
import os
import time

ENV = "FUNREASON_THREADS"
_SAMPLE_SECONDS = 0.25

logger = logging.getLogger(__name__)


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def busy_cores(seconds: float = _SAMPLE_SECONDS) -> float | None:
    """Cores kept busy by running processes over the next `seconds` (Linux `/proc/stat`); None
    where that cannot be read. This process sleeps meanwhile, so its own work is not counted."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total_after - total_before
    if total <= 0:
        return None
    return (os.cpu_count() or 1) * (1 - (idle_after - idle_before) / total)


def free_cores() -> int:
    """Usable cores minus the busy ones, at least 1 (a core counts as busy from half its time)."""
    cores = usable_cores()
    busy = busy_cores()
    if busy is None:
        return cores
    return max(1, min(cores, cores - int(busy + 0.5)))


def configure_threads() -> int:
    """Set torch's thread count (`FUNREASON_THREADS`, else `free_cores()`) and return it."""
    import torch

    wanted = os.environ.get(ENV, "").strip()
    if wanted:
        try:
            threads = int(wanted)
        except ValueError:
            raise ValueError(f"{ENV}={wanted!r}: give a whole number of threads (--threads N)") from None
        if threads < 1:
            raise ValueError(f"{ENV}={threads}: at least 1 thread")
        chosen = "as asked"
    else:
        threads, chosen = free_cores(), f"free of {usable_cores()} cores"
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
        logger.info("torch uses %d thread(s) (%s)", threads, chosen)
    return threads
