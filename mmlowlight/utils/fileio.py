"""Crash-safe file output: write to a temporary sibling, then rename into place.

A reader never sees a half-written file, and an interrupted run leaves no partial output (only a
hidden temporary, removed by the next run for the same target).
"""
import contextlib
import glob
import json
import os
import os.path as osp
from typing import Any, Iterator, Optional

__all__ = ['atomic_output', 'atomic_write_bytes', 'temporary_name', 'write_json_atomic']

_TEMP_MARK = '.part'


def temporary_name(path: str) -> str:
    """A hidden sibling of ``path`` that keeps its extension (OpenCV picks formats by it)."""
    folder, name = osp.split(path)
    stem, ext = osp.splitext(name)
    return osp.join(folder, f'.{stem}{_TEMP_MARK}-{os.getpid()}{ext}')


def _remove_stale_temporaries(path: str) -> None:
    folder, name = osp.split(path)
    stem, ext = osp.splitext(name)
    for stale in glob.glob(osp.join(glob.escape(folder or '.'),
                                    f'.{glob.escape(stem)}{_TEMP_MARK}-*{glob.escape(ext)}')):
        with contextlib.suppress(OSError):
            os.remove(stale)


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield a temporary path to write to; on success rename it to ``path``, else delete it.

    Leftovers of a killed earlier run for the same output are removed first.
    """
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    _remove_stale_temporaries(path)
    temporary = temporary_name(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (fsynced first)."""
    with atomic_output(path) as temporary:
        with open(temporary, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_json_atomic(obj: Any, path: str, indent: Optional[int] = None) -> None:
    """Write ``obj`` as json to ``path`` through a temporary file and a rename."""
    with atomic_output(path) as temporary:
        with open(temporary, 'w', encoding='utf-8') as f:
            json.dump(obj, f, indent=indent)
