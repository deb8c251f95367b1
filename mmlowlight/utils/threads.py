"""Long-lived worker thread pools shared by the CPU inference kernels."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ['worker_pool', 'run_jobs']

_POOLS: Dict[Tuple[int, str, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def worker_pool(workers: int, name: str, initializer: Optional[Callable[..., None]] = None,
                initargs: Tuple = ()) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` threads called ``name``, created on first use.

    Starting threads on every frame costs more than some of the kernels they run, so pools live
    as long as the process. Keyed by process id: a forked child must not use the parent's
    (absent) threads.

    Args:
        workers (int): Number of threads (>= 1).
        name (str): Thread name prefix; pools of different names are distinct (e.g. different
            ``initializer``).
        initializer (callable, optional): Run once in each new thread.
        initargs (tuple): Arguments of ``initializer``.

    Returns:
        ThreadPoolExecutor: The shared pool.
    """
    key = (os.getpid(), name, workers)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = ThreadPoolExecutor(workers, thread_name_prefix=name,
                                             initializer=initializer, initargs=initargs)
        return _POOLS[key]


def run_jobs(kernel: Callable, jobs: Sequence[tuple], workers: int, name: str) -> List:
    """``kernel(*job)`` of every job, on the pool ``worker_pool(workers, name)`` (in the
    calling thread where ``workers`` is 1 or there is one job); their results, in order.

    The kernels release the GIL (numba's ``nogil``): the jobs then run at once.

    Args:
        kernel (callable): Run once per job.
        jobs (Sequence[tuple]): The arguments of each call.
        workers (int): Worker threads (>= 1).
        name (str): The pool's name (see :func:`worker_pool`).

    Returns:
        list: ``kernel``'s results, one per job. A job's exception is raised here.
    """
    if workers == 1 or len(jobs) == 1:
        return [kernel(*job) for job in jobs]
    pool = worker_pool(workers, name)
    return [future.result() for future in [pool.submit(kernel, *job) for job in jobs]]
