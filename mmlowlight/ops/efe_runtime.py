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
import os
import threading
import warnings
import weakref
from typing import Callable, Dict, Optional, Tuple


import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

from .onnx_writer import efe_model_bytes

__all__ = ['EFE_BACKENDS', 'default_efe_backend', 'efe_forward', 'onnx_available',
           'receptive_radius']

#: ``'onnxruntime'``: an onnxruntime session of the EFE graph; ``'torch'``: the PyTorch module on
#: a channels-last input; ``'torch-nchw'``: the module as it is (the reference, for benchmarks).
EFE_BACKENDS = ('onnxruntime', 'torch', 'torch-nchw')
#: Environment variable that overrides :func:`default_efe_backend`.
BACKEND_ENV = 'MMLOWLIGHT_EFE_BACKEND'
#: Largest |onnxruntime - PyTorch| accepted when a session is checked against the module.
ONNX_TOLERANCE = 1e-4
#: Thumbnails with fewer pixels (all images of the batch) run onnxruntime on one thread: each
#: of the ~20 operators is a parallel region too short to pay for waking and waiting on a second
#: thread on shared cores (measured, 2 threads at load ~11: 160x90 9.7 ms on 1 thread, 15.0 ms
#: on 2; 320x180 108 ms on 1, 90 ms on 2).
SINGLE_THREAD_PIXELS = 32768
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


#: efe module -> {threads: (weights fingerprint, runner or None)}
_SESSIONS: 'weakref.WeakKeyDictionary[nn.Module, Dict]' = weakref.WeakKeyDictionary()
_SESSIONS_LOCK = threading.Lock()


def _onnx_session(efe: nn.Module, threads: int) -> Optional[Callable[[np.ndarray], np.ndarray]]:
    """A cached onnxruntime runner of ``efe``, or None where the graph does not reproduce the
    module (another architecture): the caller then uses PyTorch."""
    import onnxruntime
    fingerprint = _fingerprint(efe)
    with _SESSIONS_LOCK:
        cached = _SESSIONS.setdefault(efe, {}).get(threads)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
    run = None
    try:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No spinning after a run: the full-resolution pass needs those cores right after.
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        # Denormal weights and activations as zero (the official weights hold thousands of
        # denormal values; x86 arithmetic on them is slow, and they change nothing visible).
        options.add_session_config_entry('session.set_denormal_as_zero', '1')
        # No memory arena: it kept blocks for every band shape, 2.4 KB per thumbnail pixel
        # instead of 1.05 (peak RSS of a 3840 x 2160 frame: 2.13x the frame with it, 1.70x
        # without; no difference in speed measurable on these shared cores).
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(efe_model_bytes(efe), options,
                                               providers=['CPUExecutionProvider'])

        def run(small: np.ndarray) -> np.ndarray:
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
        _SESSIONS.setdefault(efe, {})[threads] = (fingerprint, run)
    return run


def receptive_radius(efe: nn.Module) -> int:
    """How many rows of context one output row of ``efe`` depends on, each side (an upper
    bound: the kernel radii of all its convolutions, summed)."""
    return sum(m.kernel_size[0] // 2 for m in efe.modules() if isinstance(m, nn.Conv2d))


def _runner(efe: nn.Module, backend: str, threads: int) -> Callable[[np.ndarray], Tensor]:
    if backend == 'onnxruntime':
        run = _onnx_session(efe, threads)
        if run is not None:
            return lambda small: torch.from_numpy(run(small))

    def run_torch(small: np.ndarray) -> Tensor:
        x = torch.from_numpy(small)
        with torch.inference_mode():
            if backend != 'torch-nchw':
                x = x.contiguous(memory_format=torch.channels_last)
            return efe(x).float().contiguous()

    return run_torch


def efe_forward(efe: nn.Module, small: np.ndarray, backend: Optional[str] = None,
                threads: Optional[int] = None, max_band_pixels: Optional[int] = None) -> Tensor:
    """The EFE's factor map of a thumbnail.

    Args:
        efe (nn.Module): The model's ``FactorExtractor`` (on the CPU).
        small (np.ndarray): (N, 3, h, w) float32 RGB in [0, 1], C-contiguous.
        backend (str, optional): One of :data:`EFE_BACKENDS`; default
            :func:`default_efe_backend`.
        threads (int, optional): Threads for onnxruntime; default ``torch.get_num_threads()``,
            or 1 for thumbnails under :data:`SINGLE_THREAD_PIXELS` pixels.
        max_band_pixels (int, optional): Bound on the pixels per EFE call (its activations
            take about :data:`ACTIVATION_BYTES_PER_PIXEL` each): larger thumbnails run image by
            image in horizontal bands, each with :func:`receptive_radius` rows of context on
            either side, so the result is the same. None: in one call.

    Returns:
        Tensor: (N, C, h, w) float32 in [-1, 1] (contiguous).
    """
    backend = backend or default_efe_backend()
    if backend not in EFE_BACKENDS:
        raise ValueError(f'unknown EFE backend {backend!r}; expected one of {EFE_BACKENDS}')
    n, _, height, width = small.shape
    if threads is None:
        threads = 1 if n * height * width < SINGLE_THREAD_PIXELS else torch.get_num_threads()
    run = _runner(efe, backend, threads)
    halo = receptive_radius(efe)
    band = height if max_band_pixels is None else max(1, max_band_pixels // width - 2 * halo)
    if max_band_pixels is None or n * height * width <= max_band_pixels or band >= height:
        return run(small)
    rows = []
    for image in small:
        for top in range(0, height, band):
            start, stop = max(0, top - halo), min(height, top + band + halo)
            out = run(np.ascontiguousarray(image[None, :, start:stop]))
            rows.append((top - start, min(band, height - top), out))
    bands = [out[:, :, skip:skip + count] for skip, count, out in rows]
    per_image = -(-height // band)
    return torch.cat([torch.cat(bands[i:i + per_image], 2)
                      for i in range(0, len(bands), per_image)], 0).contiguous()
