"""Long-lived worker thread pools shared by the CPU inference kernels."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Optional, Tuple

__all__ = ['worker_pool']

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
