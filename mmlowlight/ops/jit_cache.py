"""Where numba keeps its compiled kernels, set before numba is imported.

The kernels of :mod:`mmlowlight.ops` are compiled with ``cache=True``: the first run on a machine
compiles them (seconds), every later process loads the machine code from the cache. numba writes
that cache next to the source (``mmlowlight/ops/__pycache__``); in a read-only installation (a
system site-packages, a container image) that fails, so this module points ``NUMBA_CACHE_DIR`` at a
user cache folder instead, unless the environment already sets it.
"""
import os
import os.path as osp
import tempfile
from typing import Callable, Optional

__all__ = ['configure_numba_cache', 'user_cache_dir']

_OPS_DIR = osp.dirname(osp.abspath(__file__))


def _uid() -> str:
    return str(os.getuid()) if hasattr(os, 'getuid') else 'user'


def user_cache_dir() -> str:
    """``$XDG_CACHE_HOME/mmlowlight/numba`` (``~/.cache/mmlowlight/numba`` by default)."""
    base = os.environ.get('XDG_CACHE_HOME') or osp.join(osp.expanduser('~'), '.cache')
    return osp.join(base, 'mmlowlight', 'numba')


def _writable_dir(path: str) -> bool:
    """Whether ``path`` exists (or can be created) and a file can be created in it."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            return True
    except OSError:
        return False


def configure_numba_cache(source_dir: str = _OPS_DIR,
                          writable: Callable[[str], bool] = _writable_dir) -> Optional[str]:
    """Set ``NUMBA_CACHE_DIR`` when numba could not write its cache beside the sources.

    Call before ``import numba`` (numba reads the variable once, at import).

    Args:
        source_dir (str): The folder of the jitted sources (numba's first choice is its
            ``__pycache__``).
        writable (callable): Test of a folder's writability (a parameter for the tests).

    Returns:
        str | None: The cache folder chosen here, or None where the environment's setting or
        the in-tree ``__pycache__`` is used.
    """
    if os.environ.get('NUMBA_CACHE_DIR'):
        return None
    if writable(osp.join(source_dir, '__pycache__')):
        return None
    for candidate in (user_cache_dir(), osp.join(tempfile.gettempdir(),
                                                 f'mmlowlight-numba-{_uid()}')):
        if writable(candidate):
            os.environ['NUMBA_CACHE_DIR'] = candidate
            return candidate
    return None  # nowhere to cache: numba compiles in every process (slow first frame only)
