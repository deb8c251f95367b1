"""In-place, cache-blocked RIE for inference (no autograd).

The plain :func:`~mmlowlight.models.enhancers.sgz.recurrent_enhance` writes the official code's
expression ``x + r * (x**2 - x)`` as it stands: four full-resolution temporaries per step, 32 per
image. On a CPU each of them is a fresh allocation of a full frame (page faults, zero-filling) and
a pass through main memory; at 1920x1080 that dominates the whole enhancer. Here the eight steps
run on slices small enough to stay in cache, in place, with two reusable buffers, so a frame goes
through main memory about once. PyTorch has no fused kernel for this curve and ``torch.compile``
needs a C++ toolchain and seconds of warm-up per shape, hence the hand-written blocking.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Optional, Tuple

import torch
from torch import Tensor

from mmlowlight.utils import worker_pool

__all__ = ['recurrent_enhance_', 'DEFAULT_BLOCK_NUMEL']

#: Elements per block: x, r and one buffer of 2**20 float32 values take 12 MiB, which stays in
#: a server's L3 cache through the eight steps. Smaller blocks fit L2 but multiply the number of
#: parallel regions (32 per block); with 2 threads on a shared machine their barriers cost more
#: than the cache misses saved (measured on 2 shared cores).
DEFAULT_BLOCK_NUMEL = 1 << 20


_BUFFERS = threading.local()


def _block_pool(workers: int) -> ThreadPoolExecutor:
    """Worker threads whose own torch ops run single-threaded.

    With intra-op threading every elementwise op on a block is an OpenMP parallel region that
    ends in a barrier: 32 per block. When other processes share the cores, a preempted thread
    holds up each barrier and 2 threads ran several times slower than 1 (measured). Blocks
    handed to single-threaded workers need no barrier and use the same cores when they are
    free. Keyed by process id: a forked child must not reuse the parent's (absent) threads.
    """
    return worker_pool(workers, 'rie', initializer=torch.set_num_threads, initargs=(1, ))


def _enhance_block(xs: Tensor, rs: Tensor, num_iterations: int,
                   inference: Optional[bool] = None) -> None:
    """The curve steps on one block, in place, with a reusable per-thread buffer."""
    # Inference/grad mode are thread-local: a worker re-enters the caller's inference mode
    # (inference tensors may only be changed in place inside it).
    with torch.inference_mode(inference) if inference is not None else nullcontext():
        tmp = getattr(_BUFFERS, 'tmp', None)
        if tmp is None or tmp.numel() < xs.numel() or tmp.dtype != xs.dtype or \
                tmp.device != xs.device or tmp.is_inference() != xs.is_inference():
            tmp = _BUFFERS.tmp = torch.empty_like(xs)
        tmp = tmp[:xs.numel()]
        for _ in range(num_iterations):
            torch.mul(xs, xs, out=tmp)
            tmp.sub_(xs)
            tmp.mul_(rs)
            xs.add_(tmp)


def _flat_view(t: Tensor) -> Tuple[Tensor, str]:
    """A 1-D view of a contiguous or channels-last tensor, in memory order, and the layout."""
    if t.is_contiguous():
        return t.view(-1), 'contiguous'
    if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1).view(-1), 'channels_last'
    raise ValueError('recurrent_enhance_ needs contiguous or channels-last x and factor, got '
                     f'strides {t.stride()} for shape {tuple(t.shape)}')


def recurrent_enhance_(x: Tensor, factor: Tensor, num_iterations: int = 8,
                       block_numel: int = DEFAULT_BLOCK_NUMEL) -> Tensor:
    """RIE in place on ``x``: ``num_iterations`` steps of ``x <- x + r * (x**2 - x)``.

    Bit-identical to :func:`recurrent_enhance` with a shared factor map (the same elementwise
    operations in the same order; a fused multiply-add would be ~15% faster but differs by up to
    4e-6 after eight steps). Not differentiable: use it under
    ``torch.no_grad``/``torch.inference_mode`` or on tensors that do not require grad.

    Args:
        x (Tensor): Image (N, 3, H, W), float32, values in [0, 1]; overwritten with the result.
            Contiguous or channels-last.
        factor (Tensor): Shared factor map (N, 3, H, W) in [-1, 1], same dtype, device, shape
            and memory layout as ``x``.
        num_iterations (int): Number of curve steps. Defaults to 8.
        block_numel (int): Elements processed per block. Defaults to
            :data:`DEFAULT_BLOCK_NUMEL`.

    Returns:
        Tensor: ``x``, enhanced.
    """
    if factor.shape != x.shape or factor.dtype != x.dtype or factor.device != x.device:
        raise ValueError(
            'recurrent_enhance_ needs a factor map of the image\'s shape, dtype and device; got '
            f'x {tuple(x.shape)} {x.dtype} {x.device}, factor {tuple(factor.shape)} '
            f'{factor.dtype} {factor.device}')
    if block_numel < 1:
        raise ValueError(f'block_numel must be >= 1, got {block_numel}')
    (flat_x, x_layout), (flat_r, r_layout) = _flat_view(x), _flat_view(factor)
    if x_layout != r_layout:
        raise ValueError(f'recurrent_enhance_ needs x and factor in the same memory layout; got '
                         f'{x_layout} x and {r_layout} factor')
    starts = range(0, flat_x.numel(), block_numel)
    workers = min(torch.get_num_threads(), len(starts))
    if x.device.type != 'cpu' or workers <= 1:
        for start in starts:
            _enhance_block(flat_x[start:start + block_numel],
                           flat_r[start:start + block_numel], num_iterations)
        return x
    pool, inference = _block_pool(workers), x.is_inference()
    futures = [
        pool.submit(_enhance_block, flat_x[start:start + block_numel],
                    flat_r[start:start + block_numel], num_iterations, inference)
        for start in starts
    ]
    for future in futures:
        future.result()
    return x
