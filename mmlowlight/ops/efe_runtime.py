"""The thumbnail EFE on a CPU: onnxruntime, or PyTorch channels-last.

The EFE runs on the 1/scale thumbnail (160 x 90 at 1080p and scale 12), where PyTorch's
per-operator overhead dominates: NCHW convolutions take several times longer than channels-last
ones, and onnxruntime (MLAS kernels, Conv+ReLU fused, no autograd dispatch) is faster still
(``tools/benchmark.py`` prints all three). The ONNX graph is written directly from the weights
(:mod:`.onnx_writer`, well under a millisecond; ``torch.onnx.export`` takes seconds and importing
``onnx`` a fair part of one, which the first frame of a CLI run would pay), checked once against
the PyTorch EFE, and its session is cached per model and thread count; changing the weights in
place (``load_state_dict``) invalidates it.
"""
import functools
import os
import threading
import warnings
import weakref
from typing import Callable, Dict, NamedTuple, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

from mmlowlight.utils import flushed_denormals, preserved_float_environment, run_jobs
from .onnx_writer import efe_model_bytes

__all__ = ['EFE_BACKENDS', 'EfePlan', 'TileGrid', 'default_efe_backend', 'efe_forward',
           'onnx_available', 'plan_efe', 'plan_tiles', 'receptive_radius']

#: ``'onnxruntime'``: an onnxruntime session of the EFE graph; ``'torch'``: the PyTorch module on
#: a channels-last input; ``'torch-nchw'``: the module as it is (the reference, for benchmarks).
EFE_BACKENDS = ('onnxruntime', 'torch', 'torch-nchw')
#: Environment variable that overrides :func:`default_efe_backend`.
BACKEND_ENV = 'MMLOWLIGHT_EFE_BACKEND'
#: Largest |onnxruntime - PyTorch| accepted when a session is checked against the module.
ONNX_TOLERANCE = 1e-4
#: Thumbnails with fewer pixels (all images of the batch) run in one call on one thread: below
#: this, splitting them gains less than a task hand-off costs.
SINGLE_THREAD_PIXELS = 4096
#: Thumbnails of up to this many pixels each (1080p at scale 12: 14,400) run in one call on
#: onnxruntime's own threads (measured 5.5 ms at 160 x 90 against 5.8 ms in two tiles, whose
#: context columns cost more than they gain while the activations still fit the cache).
WHOLE_PIXELS = 16384
#: Largest tile (context included) of the tiled EFE. Each convolution's activations of a tile
#: then stay in the cache between the ~20 operators; a whole 320 x 180 thumbnail (4K at scale 12)
#: does not fit (measured, 2 threads: 67-87 ms whole, 25-29 ms in ~64 x 64 tiles).
TILE_PIXELS = 8192
#: What one tile costs beyond its pixels (task hand-off, session call), in pixels' worth of
#: work (~0.2 ms at ~0.7 us per thumbnail pixel on one core).
TILE_OVERHEAD_PIXELS = 300
#: Peak bytes of the EFE's activations per thumbnail pixel, a little above the measured 1.05 KB
#: (onnxruntime without memory arena, one 320 x 180 thumbnail: +2.42x a 3840 x 2160 uint8 frame).
ACTIVATION_BYTES_PER_PIXEL = 1280


def onnx_available() -> bool:
    """Whether ``onnxruntime`` can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def default_efe_backend() -> str:
    """``$MMLOWLIGHT_EFE_BACKEND`` if set, else ``'onnxruntime'`` where it is installed (the
    fastest in ``tools/benchmark.py`` on the thumbnail sizes of scale 12 and 4), else
    ``'torch'``."""
    chosen = os.environ.get(BACKEND_ENV)
    if chosen:
        if chosen not in EFE_BACKENDS:
            raise ValueError(f'{BACKEND_ENV}={chosen!r}; expected one of {EFE_BACKENDS}')
        return chosen
    return 'onnxruntime' if onnx_available() else 'torch'


def _fingerprint(module: nn.Module) -> Tuple:
    # The storage and version counter of every parameter: in-place updates bump the version.
    return tuple((p.data_ptr(), p._version) for p in module.parameters())


#: efe module -> {(threads, spin): (weights fingerprint, runner or None)}
_SESSIONS: 'weakref.WeakKeyDictionary[nn.Module, Dict]' = weakref.WeakKeyDictionary()
_SESSIONS_LOCK = threading.Lock()


def _onnx_session(efe: nn.Module, threads: int, spin: bool = False
                  ) -> Optional[Callable[[np.ndarray], np.ndarray]]:
    """A cached onnxruntime runner of ``efe``, or None where the graph does not reproduce the
    module (another architecture): the caller then uses PyTorch. ``spin``: the intra-op
    threads spin between the graph's operators during a call (see :func:`efe_forward`)."""
    import onnxruntime
    fingerprint = _fingerprint(efe)
    key = (threads, spin)
    with _SESSIONS_LOCK:
        cached = _SESSIONS.setdefault(efe, {}).get(key)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    run = None
    try:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Never any spinning after a call: the full-resolution pass needs those cores right
        # after. Without spinning, each of the graph's ~20 operators wakes the pool's threads
        # (a futex hand-off); spinning during the call and stopping when it returns took the
        # 160 x 90 EFE 6.4 -> 3.8 ms (medians, 2 threads, alternating calls).
        options.add_session_config_entry('session.intra_op.allow_spinning', str(int(spin)))
        options.add_session_config_entry('session.force_spinning_stop', '1')
        # Denormal weights and activations as zero (the official weights hold thousands of
        # denormal values; x86 arithmetic on them is slow, and they change nothing visible).
        options.add_session_config_entry('session.set_denormal_as_zero', '1')
        # No memory arena: it kept blocks for every band shape, 2.4 KB per thumbnail pixel
        # instead of 1.05 (peak RSS of a 3840 x 2160 frame: 2.13x the frame with it, 1.70x
        # without; no difference in speed measurable on these shared cores).
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        # The process's first session turns denormal flushing on in this thread for good
        # (see mmlowlight.utils.float_env): the caller's thread gets its own state back.
        with preserved_float_environment():
            session = onnxruntime.InferenceSession(efe_model_bytes(efe), options,
                                                   providers=['CPUExecutionProvider'])

        def run(small: np.ndarray) -> np.ndarray:  # noqa: F811 (None until built)
            return session.run(['factor'], {'small': small})[0]

        probe = torch.rand(1, 3, 5, 7, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            expected = efe(probe.to(next(efe.parameters()).device)).float().cpu().numpy()
        if np.abs(run(probe.numpy()) - expected).max() > ONNX_TOLERANCE:
            raise ValueError('the ONNX graph differs from the module')
    except Exception as exc:  # onnxruntime's errors derive from Exception only
        warnings.warn(f'onnxruntime EFE unavailable for this model ({exc}); using PyTorch')
        run = None
    with _SESSIONS_LOCK:
        _SESSIONS.setdefault(efe, {})[key] = (fingerprint, run)
    return run


def receptive_radius(efe: nn.Module) -> int:
    """How many rows of context one output row of ``efe`` depends on, each side (an upper
    bound: the kernel radii of all its convolutions, summed)."""
    return sum(m.kernel_size[0] // 2 for m in efe.modules() if isinstance(m, nn.Conv2d))


def _out_channels(efe: nn.Module) -> int:
    """Channels of the factor map: those of the last convolution."""
    return [m for m in efe.modules() if isinstance(m, nn.Conv2d)][-1].out_channels


def _runner(efe: nn.Module, backend: str, threads: int, spin: bool
            ) -> Callable[[np.ndarray], Tensor]:
    if backend == 'onnxruntime':
        run = _onnx_session(efe, threads, spin and threads > 1)
        if run is not None:
            return lambda small: torch.from_numpy(run(small))

    def run_torch(small: np.ndarray) -> Tensor:
        x = torch.from_numpy(small)
        with torch.inference_mode():
            if backend != 'torch-nchw':
                x = x.contiguous(memory_format=torch.channels_last)
            return efe(x).float().contiguous()

    return run_torch


class TileGrid(NamedTuple):
    """How a thumbnail is cut: ``rows`` x ``cols`` tiles of at most ``tile_h`` x ``tile_w``
    output pixels, each run with ``halo`` pixels of context on every inner side."""

    rows: int
    cols: int
    tile_h: int
    tile_w: int
    halo: int

    def windows(self, height: int, width: int):
        """Per tile: output window ``(y, x, h, w)`` and input window ``(y0, y1, x0, x1)``."""
        for top in range(0, height, self.tile_h):
            for left in range(0, width, self.tile_w):
                h, w = min(self.tile_h, height - top), min(self.tile_w, width - left)
                yield ((top, left, h, w),
                       (max(0, top - self.halo), min(height, top + h + self.halo),
                        max(0, left - self.halo), min(width, left + w + self.halo)))


@functools.lru_cache(maxsize=256)  # a few ms of Python per call; frames repeat sizes
def plan_tiles(images: int, height: int, width: int, halo: int, threads: int,
               max_tile_pixels: int = TILE_PIXELS) -> TileGrid:
    """The tiling with the least modelled wall time: rounds of ``threads`` parallel tiles, each
    costing its pixels (context included) plus :data:`TILE_OVERHEAD_PIXELS`; tiles hold at most
    ``max_tile_pixels`` where any tiling allows.

    Args:
        images (int): Thumbnails in the batch (each is tiled alike).
        height (int): Thumbnail height.
        width (int): Thumbnail width.
        halo (int): Context rows/columns (:func:`receptive_radius`).
        threads (int): Tiles run at once.
        max_tile_pixels (int): Bound on a tile's pixels, context included.

    Returns:
        TileGrid: One tile (the whole thumbnail) when that is cheapest.
    """
    best, best_cost = None, None
    for rows in range(1, min(height, 64) + 1):
        tile_h = -(-height // rows)
        rows = -(-height // tile_h)
        for cols in range(1, min(width, 64) + 1):
            tile_w = -(-width // cols)
            cols = -(-width // tile_w)
            pixels = (min(height, tile_h + (2 if rows > 2 else rows - 1) * halo)
                      * min(width, tile_w + (2 if cols > 2 else cols - 1) * halo))
            rounds = -(-images * rows * cols // threads)
            # Over-sized tiles are allowed only as a last resort (tiny budgets).
            cost = (pixels > max_tile_pixels, rounds * (pixels + TILE_OVERHEAD_PIXELS))
            if best_cost is None or cost < best_cost:
                best, best_cost = TileGrid(rows, cols, tile_h, tile_w, halo), cost
    return best


class EfePlan(NamedTuple):
    """How :func:`efe_forward` runs a batch of thumbnails: session calls on ``call_threads``
    threads each, ``parallel`` tiles at once, in ``grid`` (None: the whole batch in one call)."""

    call_threads: int
    parallel: int
    grid: Optional[TileGrid]

    def describe(self) -> str:
        """``'one call'`` or ``'R x C tiles'``, for benchmark output."""
        return 'one call' if self.grid is None else f'{self.grid.rows}x{self.grid.cols} tiles'


def plan_efe(efe: nn.Module, shape: Tuple[int, int, int, int], backend: str,
             threads: Optional[int] = None, max_pixels: Optional[int] = None) -> EfePlan:
    """The plan :func:`efe_forward` follows for thumbnails of ``shape`` (see its arguments).

    Returns:
        EfePlan: One call on one thread under :data:`SINGLE_THREAD_PIXELS` pixels, one call on
        ``threads`` for thumbnails of up to :data:`WHOLE_PIXELS` each (within ``max_pixels``),
        else the :func:`plan_tiles` grid (``threads`` single-threaded onnxruntime tiles at once;
        PyTorch tiles one after the other on ``threads``).
    """
    n, _, height, width = shape
    threads = threads or torch.get_num_threads()
    if n * height * width < SINGLE_THREAD_PIXELS:
        return EfePlan(1, 1, None)
    if height * width <= WHOLE_PIXELS and (max_pixels is None
                                           or n * height * width <= max_pixels):
        return EfePlan(threads, 1, None)
    parallel = threads if backend == 'onnxruntime' else 1
    tile_limit = TILE_PIXELS if max_pixels is None else min(TILE_PIXELS,
                                                            max(1, max_pixels // parallel))
    grid = plan_tiles(n, height, width, receptive_radius(efe), parallel, tile_limit)
    call_threads = 1 if parallel > 1 else threads
    if grid.rows == grid.cols == 1 and (n == 1 or parallel == 1):
        return EfePlan(call_threads, parallel, None)
    return EfePlan(call_threads, parallel, grid)


def efe_forward(efe: nn.Module, small: np.ndarray, backend: Optional[str] = None,
                threads: Optional[int] = None, max_pixels: Optional[int] = None,
                spin: bool = True) -> Tensor:
    """The EFE's factor map of a thumbnail.

    Thumbnails of under :data:`SINGLE_THREAD_PIXELS` (in all) run in one call on one thread,
    those of up to :data:`WHOLE_PIXELS` each in one call on ``threads``; larger ones (and any
    that ``max_pixels`` bounds) run in tiles (:func:`plan_tiles`), each
    with :func:`receptive_radius` pixels of context on every side (so the result is the same as
    in one call): onnxruntime tiles run on ``threads`` worker threads at once, one
    single-threaded session call each (measured faster than onnxruntime's own threading, whose
    ~20 parallel regions per call each pay a hand-off); PyTorch tiles run one after the other
    on PyTorch's threads.

    Args:
        efe (nn.Module): The model's ``FactorExtractor`` (on the CPU).
        small (np.ndarray): (N, 3, h, w) float32 RGB in [0, 1], C-contiguous.
        backend (str, optional): One of :data:`EFE_BACKENDS`; default
            :func:`default_efe_backend`.
        threads (int, optional): Tiles run at once; default ``torch.get_num_threads()``.
        max_pixels (int, optional): Bound on the thumbnail pixels (context included) in flight
            at once, over all threads: activations take about
            :data:`ACTIVATION_BYTES_PER_PIXEL` each. None: :data:`TILE_PIXELS` per tile.
        spin (bool): Whether onnxruntime's threads of a one-call plan on several threads
            busy-wait between the graph's operators (never after the call): faster, unless
            other work shares the cores during the call (1080p, medians of 100 alternating
            calls: the official weights' fast path 8.73 ms still, 8.23 spinning; the default
            path, whose statistics worker runs beside the EFE, 19.25 still, 20.16 spinning).
            Defaults to True.

    Returns:
        Tensor: (N, C, h, w) float32 in [-1, 1] (contiguous).
    """
    # Denormals flushed in the calling thread for the call only (the EFE pool's threads flush
    # always): onnxruntime's sessions would otherwise leave the caller's thread flushing.
    with flushed_denormals():
        return _efe_forward(efe, small, backend, threads, max_pixels, spin)


def _efe_forward(efe: nn.Module, small: np.ndarray, backend: Optional[str],
                 threads: Optional[int], max_pixels: Optional[int], spin: bool) -> Tensor:
    backend = backend or default_efe_backend()
    if backend not in EFE_BACKENDS:
        raise ValueError(f'unknown EFE backend {backend!r}; expected one of {EFE_BACKENDS}')
    n, _, height, width = small.shape
    plan = plan_efe(efe, small.shape, backend, threads, max_pixels)
    run = _runner(efe, backend, plan.call_threads, spin)
    if plan.grid is None:
        return run(small)
    grid, parallel = plan.grid, plan.parallel
    out = torch.empty((n, _out_channels(efe), height, width))
    jobs = [(i, window) for i in range(n) for window in grid.windows(height, width)]

    def tile(job) -> None:
        i, ((top, left, h, w), (y0, y1, x0, x1)) = job
        result = run(np.ascontiguousarray(small[i:i + 1, :, y0:y1, x0:x1]))
        out[i, :, top:top + h, left:left + w] = \
            result[0, :, top - y0:top - y0 + h, left - x0:left - x0 + w]

    run_jobs(tile, [(job, ) for job in jobs], parallel, 'mmlowlight-efe',
             initializer=torch.set_flush_denormal, initargs=(True, ))
    return out
