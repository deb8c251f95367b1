"""The calling thread's floating-point environment, kept as the caller set it.

onnxruntime's ``session.set_denormal_as_zero`` (which the EFE sessions use: most of the
official SGZ weights are denormal, and x86 arithmetic on denormals is ~10x slower) switches
flush-to-zero and denormals-are-zero on in the thread that creates the process's first session,
and never back. Left so, every later float operation of the caller's thread, and of every thread
it starts afterwards (they inherit the state), would silently flush denormals to zero: PyTorch
code of the user's, for one, changed speed and results after one ``enhance()`` call.
"""
import contextlib
import ctypes
import ctypes.util
import functools
from typing import Iterator, Optional, Tuple

import torch

__all__ = ['preserved_float_environment', 'flushed_denormals']

#: Bytes kept for a ``fenv_t`` (32 on x86-64 glibc, 8 on aarch64): room for any of them.
_FENV_BYTES = 256


@functools.lru_cache(maxsize=1)
def _fenv_functions() -> Optional[Tuple[ctypes._CFuncPtr, ctypes._CFuncPtr]]:
    # C99's fegetenv/fesetenv (which hold the SSE control register MXCSR on x86): neither
    # NumPy nor PyTorch exposes a way to read that state back, only to set it.
    name = ctypes.util.find_library('m') or ctypes.util.find_library('c')
    if not name:
        return None
    try:
        library = ctypes.CDLL(name)
        functions = (library.fegetenv, library.fesetenv)
    except (OSError, AttributeError):
        return None
    for function in functions:
        function.argtypes, function.restype = [ctypes.c_void_p], ctypes.c_int
    return functions


@contextlib.contextmanager
def preserved_float_environment() -> Iterator[None]:
    """Run a block and give the calling thread back its floating-point environment.

    Where the C library has no ``fegetenv`` (e.g. Windows), the state restored is the default
    one (denormals kept), which is what PyTorch and NumPy start with.
    """
    functions = _fenv_functions()
    saved = ctypes.create_string_buffer(_FENV_BYTES)
    kept = functions is not None and functions[0](saved) == 0
    try:
        yield
    finally:
        if kept:
            functions[1](saved)
        else:
            torch.set_flush_denormal(False)


@contextlib.contextmanager
def flushed_denormals() -> Iterator[None]:
    """Run a block with denormal floats flushed to zero in the calling thread only (where the
    CPU supports it), then restore the thread's previous floating-point environment."""
    with preserved_float_environment():
        torch.set_flush_denormal(True)
        yield
