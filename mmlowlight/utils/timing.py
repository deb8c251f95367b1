"""Timing for the benchmark scripts in tools/."""
import statistics
import time
from typing import Callable


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1,
                   timer: Callable[[], float] = time.perf_counter) -> float:
    """Median time of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls.

    Args:
        fn (Callable): The work to time.
        repeats (int): Timed calls (>= 1).
        warmup (int): Untimed calls first (allocator, thread pools, kernel/codec caches).
            Defaults to 1.
        timer (Callable): Clock, e.g. ``time.process_time`` for CPU time. Defaults to
            ``time.perf_counter`` (wall time).

    Returns:
        float: Seconds.
    """
    if repeats < 1:
        raise ValueError(f'repeats must be >= 1, got {repeats}')
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = timer()
        fn()
        times.append(timer() - start)
    return statistics.median(times)
