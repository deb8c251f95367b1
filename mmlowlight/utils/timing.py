"""Wall-clock timing for the benchmark scripts in tools/."""
import statistics
import time
from typing import Callable


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` after one untimed warm-up call.

    Args:
        fn (Callable): The work to time.
        repeats (int): Timed calls (>= 1).

    Returns:
        float: Seconds.
    """
    if repeats < 1:
        raise ValueError(f'repeats must be >= 1, got {repeats}')
    fn()  # warm-up: allocator, thread pools, kernel/codec caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
