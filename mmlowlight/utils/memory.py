"""Hand freed heap memory back to the operating system between the stages of a frame."""
import ctypes
import ctypes.util
import functools
from typing import Optional

__all__ = ['release_free_memory']


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Optional[ctypes._CFuncPtr]:
    # glibc's malloc_trim: no maintained library wraps it. Elsewhere (musl, macOS, Windows)
    # there is nothing to call and freed memory stays with the allocator.
    name = ctypes.util.find_library('c')
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``).

    The EFE's tiles allocate and free their activations in every worker thread's own malloc
    arena; glibc keeps those pages, so a frame's output, allocated next, would add to them
    (measured at 3840 x 2160: peak extra memory 2.2x the frame without, see
    ``tools/benchmark.py``).

    Returns:
        bool: Whether anything could be called (False where the C library has no
        ``malloc_trim``).
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
