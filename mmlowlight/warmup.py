"""Compile the CPU runtime's kernels into numba's cache once: ``python -m mmlowlight.warmup``.

numba compiles the fast path's kernels on first use (10-15 s on 2 cores) and caches them; run
this after installing the package (``make install`` does) so that the first image a user
enhances does not wait for it. A second run finds the cache and takes about a second.
"""
import time

import numpy as np

__all__ = ['warm_up']


def warm_up() -> float:
    """Enhance two tiny images (uint8 and uint16) with the default weights; returns seconds."""
    from mmlowlight.apis import enhance, init_enhancer
    start = time.perf_counter()
    model = init_enhancer()
    for dtype in (np.uint8, np.uint16):
        tiny = np.linspace(0, 0.2 * np.iinfo(dtype).max, 37 * 61 * 3).astype(dtype)
        enhance(model, tiny.reshape(37, 61, 3))
    return time.perf_counter() - start


if __name__ == '__main__':
    print(f'mmlowlight: CPU runtime kernels compiled and cached ({warm_up():.1f} s)')
