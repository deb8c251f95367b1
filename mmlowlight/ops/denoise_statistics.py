"""The full-resolution statistics of :class:`NoiseAdaptiveGuidedFilter`, from integer frames.

The denoiser reads the full-resolution image twice: the average pooling by ``scale`` behind its
coefficient statistics, and the second differences of every ``noise_row_step``-th row behind its
noise estimate. Here both come straight from the uint8/uint16 frame in one multi-threaded pass
(integer sums, so the frame is never converted to float); the rest of the denoiser works at low
resolution in PyTorch (``NoiseAdaptiveGuidedFilter.coefficients``), and its affine maps
``(a, b)`` are applied inside the fused curve pass (:func:`~.fused_curve.apply_curve_maps`).

The results equal the PyTorch reference up to float rounding (pooled values within 1e-6).
"""
from typing import Tuple

import numba
import numpy as np
import torch
from torch import Tensor

from mmlowlight.utils import worker_pool

__all__ = ['pool_frames', 'noise_differences_sigma', 'denoiser_affine_maps']

#: Pooled rows per worker task.
_ROWS_PER_TASK = 8


@numba.njit(nogil=True, cache=True)
def _pool_rows(src, out, scale, row_start, row_stop, max_value, swap):
    """src (N, H, W, 3) integers -> out (N, 3, h, w) float32 cell means, pooled rows
    [row_start, row_stop) of the flattened (N * h) rows."""
    height, width = src.shape[1], src.shape[2]
    small_h, small_w = out.shape[2], out.shape[3]
    sums = np.zeros((small_w, 3), np.int64)
    for flat in range(row_start, row_stop):
        n, py = flat // small_h, flat % small_h
        y0, y1 = py * scale, min(height, (py + 1) * scale)
        sums[:] = 0
        for y in range(y0, y1):
            row = src[n, y]
            for x in range(width):
                px = x // scale
                for c in range(3):
                    sums[px, c] += row[x, c]
        for px in range(small_w):
            count = (y1 - y0) * (min(width, (px + 1) * scale) - px * scale)
            for c in range(3):
                value = np.float32(sums[px, c]) / np.float32(count) / max_value
                out[n, 2 - c if swap else c, py, px] = value


@numba.njit(nogil=True, cache=True)
def _second_difference_sums(src, row_step, cut, plain_mean, swap):
    """Per image and channel: sum and count of |v[x-1] - 2 v[x] + v[x+1]| over every
    ``row_step``-th row, keeping values <= cut * plain_mean (all values where cut < 0)."""
    n_images, height, width = src.shape[0], src.shape[1], src.shape[2]
    sums = np.zeros((n_images, 3), np.float64)
    counts = np.zeros((n_images, 3), np.float64)
    for n in range(n_images):
        for y in range(0, height, row_step):
            row = src[n, y]
            for x in range(1, width - 1):
                for c in range(3):
                    d = abs(np.int64(row[x - 1, c]) - 2 * np.int64(row[x, c])
                            + np.int64(row[x + 1, c]))
                    k = 2 - c if swap else c
                    if cut < 0 or d <= cut * plain_mean[n, k]:
                        sums[n, k] += d
                        counts[n, k] += 1
    return sums, counts


def pool_frames(frames: np.ndarray, scale: int, bgr: bool = False, threads: int = 1
                ) -> np.ndarray:
    """``NoiseAdaptiveGuidedFilter.pool`` of ``to_model_input(frames)``.

    Args:
        frames (np.ndarray): N x H x W x 3 uint8/uint16, RGB (BGR with ``bgr=True``).
        scale (int): Cell side; partial border cells average what they hold.
        bgr (bool): Channel order of ``frames``; the result is RGB.
        threads (int): Worker threads. Defaults to 1.

    Returns:
        np.ndarray: (N, 3, ceil(H / scale), ceil(W / scale)) float32 in [0, 1].
    """
    n, height, width, _ = frames.shape
    small_h, small_w = -(-height // scale), -(-width // scale)
    out = np.empty((n, 3, small_h, small_w), np.float32)
    src = np.ascontiguousarray(frames)
    max_value = np.float32(np.iinfo(src.dtype).max)
    total = n * small_h
    tasks = max(1, min(threads, total // _ROWS_PER_TASK))
    bounds = np.linspace(0, total, tasks + 1).astype(int)
    if tasks == 1:
        _pool_rows(src, out, scale, 0, total, max_value, bool(bgr))
        return out
    # The process's long-lived workers: starting threads per frame cost more than the pooling.
    pool = worker_pool(tasks, 'mmlowlight-pool')
    for future in [pool.submit(_pool_rows, src, out, scale, int(a), int(b), max_value,
                               bool(bgr)) for a, b in zip(bounds[:-1], bounds[1:])]:
        future.result()
    return out


def noise_differences_sigma(frames: np.ndarray, row_step: int, edge_cut: float,
                            mean_abs_to_sigma: float, bgr: bool = False) -> Tensor:
    """``NoiseAdaptiveGuidedFilter.estimate_noise`` of ``to_model_input(frames)``.

    Args:
        frames (np.ndarray): N x H x W x 3 uint8/uint16, RGB (BGR with ``bgr=True``).
        row_step (int): Every this many rows enter the estimate.
        edge_cut (float): Second differences above this many times their mean are left out.
        mean_abs_to_sigma (float): Robust mean |second difference| -> standard deviation.
        bgr (bool): Channel order of ``frames``; the result is RGB.

    Returns:
        Tensor: (N, 3, 1, 1) float32 RGB noise levels in [0, 1] units.
    """
    n, _, width, _ = frames.shape
    src = np.ascontiguousarray(frames)
    if width < 3:
        return torch.zeros(n, 3, 1, 1)
    sums, counts = _second_difference_sums(src, row_step, -1.0, np.zeros((n, 3)), bool(bgr))
    plain = sums / np.maximum(counts, 1)
    sums, counts = _second_difference_sums(src, row_step, edge_cut, plain, bool(bgr))
    robust = sums / np.maximum(counts, 1) / np.iinfo(src.dtype).max
    return torch.from_numpy((robust * mean_abs_to_sigma).astype(np.float32)).view(n, 3, 1, 1)


def denoiser_affine_maps(denoiser: torch.nn.Module, frames: np.ndarray, factor: Tensor,
                         num_iterations: int, bgr: bool = False, threads: int = 1
                         ) -> Tuple[np.ndarray, np.ndarray]:
    """The low-resolution ``(a, b)`` of a :class:`NoiseAdaptiveGuidedFilter` for frames.

    Args:
        denoiser (NoiseAdaptiveGuidedFilter): The model's denoiser.
        frames (np.ndarray): N x H x W x 3 uint8/uint16, RGB (BGR with ``bgr=True``).
        factor (Tensor): The low-resolution factor map (N, C, h, w), RGB order.
        num_iterations (int): The curve's steps.
        bgr (bool): Channel order of ``frames``; the maps come back in the same order.
        threads (int): Worker threads of the pooling. Defaults to 1.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``a``, ``b`` (N, 3, h', w') float32, for
        ``apply_curve_maps(..., affine=(a, b))``.
    """
    pooled = torch.from_numpy(pool_frames(frames, denoiser.scale, bgr=bgr, threads=threads))
    sigma = noise_differences_sigma(frames, denoiser.noise_row_step, denoiser.edge_cut,
                                    denoiser.mean_abs_to_sigma, bgr=bgr)
    with torch.inference_mode():
        a, b = denoiser.coefficients(pooled, factor, sigma, num_iterations)
    a, b = a.numpy(), b.numpy()
    if bgr:
        a, b = a[:, ::-1], b[:, ::-1]
    return np.ascontiguousarray(a), np.ascontiguousarray(b)
