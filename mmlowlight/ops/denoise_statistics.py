"""The full-resolution statistics of :class:`NoiseAdaptiveGuidedFilter`, from integer frames.

The denoiser reads the full-resolution image twice: the average pooling by ``scale`` behind its
coefficient statistics, and the second differences of every ``noise_row_step``-th row behind its
noise estimate. Here both come straight from the uint8/uint16 frame in one multi-threaded pass
(integer sums, so the frame is never converted to float); the rest of the denoiser works at low
resolution (``NoiseAdaptiveGuidedFilter.coefficients``: its numba version in
:mod:`.low_res_kernels` for the class itself, the PyTorch method for others), and its maps
``(a, b)`` (``(a, b, c)`` with its 3 x 3 detail window) are applied inside the fused curve pass
(:func:`~.fused_curve.apply_curve_maps`).

The results equal the PyTorch reference up to float rounding (pooled values within 1e-6).
"""
from typing import Optional, Tuple

import numba
import numpy as np
import torch
from torch import Tensor

from mmlowlight.utils import run_jobs
from .low_res_kernels import (STOCK_DENOISER, gain_fold_constants, guided_filter_coefficients,
                              is_stock)

__all__ = ['pool_frames', 'noise_differences_sigma', 'frame_statistics', 'fold_gain',
           'denoiser_affine_maps']

#: Pooled rows per worker task.
_ROWS_PER_TASK = 8


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _pool_rows(src, out, columns, sums, cells, scale, row_start, row_stop, max_value, swap):
    """src (N, H, W * 3) integers -> out (N, 3, h, w) float32 cell means, pooled rows
    [row_start, row_stop) of the flattened (N * h) rows. Scratch: ``columns`` (W * 3 + 3 *
    scale, its tail 0), ``sums`` (W * 3), ``cells`` (3, w)."""
    height, flat_width = src.shape[1], src.shape[2]
    width = flat_width // 3
    small_h, small_w = out.shape[2], out.shape[3]
    for flat in range(row_start, row_stop):
        n, py = flat // small_h, flat % small_h
        y0, y1 = py * scale, min(height, (py + 1) * scale)
        # Every loop here runs over contiguous values and vectorises. Column sums of the
        # cell's rows first (one add per frame value), then for every flat index the sum of
        # the ``scale`` columns from it on (the zero tail ends a partial cell), each cell's sum
        # being the one at its first column; last the means, a channel plane at a time.
        # (A loop over each cell's columns, and cells interleaved by channel, did not
        # vectorise: 1.8 ms at 1080p, scale 4.)
        head = columns[:flat_width]
        head[:] = 0
        for y in range(y0, y1):
            row = src[n, y]
            for k in range(flat_width):
                head[k] += row[k]
        sums[:] = 0
        for j in range(scale):
            shifted = columns[3 * j:3 * j + flat_width]
            for k in range(flat_width):
                sums[k] += shifted[k]
        for px in range(small_w):
            for c in range(3):
                cells[c, px] = sums[3 * scale * px + c]
        rows = y1 - y0
        for c in range(3):
            dest, plane = out[n, 2 - c if swap else c, py], cells[c]
            for px in range(small_w):
                count = np.float32(rows * (min(width, (px + 1) * scale) - px * scale))
                dest[px] = np.float32(plane[px]) / count / max_value


@numba.njit(nogil=True, cache=True, inline='always')
def _add_differences(left, centre, right, limits, sums, counts):
    """Adds |left - 2 centre + right| where <= limits to sums, and 1 to counts. Slices (all
    indices from 0: no negative-index checks), so that the loop vectorises."""
    for k in range(centre.shape[0]):
        d = abs(np.int32(left[k]) - 2 * np.int32(centre[k]) + np.int32(right[k]))
        keep = d <= limits[k]
        sums[k] += d if keep else 0
        counts[k] += keep


@numba.njit(nogil=True, cache=True)
def _second_difference_sums(src, row_step, limits):
    """Per image and frame channel: sum and count of |v[x-1] - 2 v[x] + v[x+1]| over every
    ``row_step``-th row of src (N, H, W * 3), keeping values <= limits (N, 3) (integers)."""
    n_images, height, flat_width = src.shape
    sums = np.zeros((n_images, 3), np.int64)
    counts = np.zeros((n_images, 3), np.int64)
    # Per flat index (pixel x, channel c) accumulators and limits: the loop over a row has no
    # channel branch and vectorises.
    row_sums = np.empty(flat_width, np.int64)
    row_counts = np.empty(flat_width, np.int32)
    row_limits = np.empty(flat_width, np.int32)
    for n in range(n_images):
        row_sums[:] = 0
        row_counts[:] = 0
        for k in range(flat_width):
            row_limits[k] = limits[n, k % 3]
        for y in range(0, height, row_step):
            row = src[n, y]
            _add_differences(row[:-6], row[3:-3], row[6:], row_limits[3:-3], row_sums[3:-3],
                             row_counts[3:-3])
        for k in range(flat_width):
            sums[n, k % 3] += row_sums[k]
            counts[n, k % 3] += row_counts[k]
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
    src = np.ascontiguousarray(frames).reshape(n, height, width * 3)
    max_value = np.float32(np.iinfo(src.dtype).max)
    total = n * small_h
    tasks = max(1, min(threads, total // _ROWS_PER_TASK))
    bounds = np.linspace(0, total, tasks + 1).astype(int)
    # The narrowest sums that hold a cell: the more lanes per vector, the faster (1080p,
    # uint8, scale 4: uint16 column sums 1.12 against int32 1.39 ms).
    largest = scale * scale * int(np.iinfo(src.dtype).max)
    sum_type = np.uint16 if largest < 2 ** 16 else np.int32 if largest < 2 ** 31 else np.int64
    columns = np.zeros((tasks, width * 3 + 3 * scale), sum_type)
    sums = np.empty((tasks, width * 3), sum_type)
    cells = np.empty((tasks, 3, small_w), sum_type)
    # The process's long-lived workers: starting threads per frame cost more than the pooling.
    run_jobs(_pool_rows, [(src, out, columns[i], sums[i], cells[i], scale, int(a), int(b),
                           max_value, bool(bgr))
                          for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))],
             tasks, 'mmlowlight-pool')
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
    n, height, width, _ = frames.shape
    if width < 3:
        return torch.zeros(n, 3, 1, 1)
    src = np.ascontiguousarray(frames).reshape(n, height, width * 3)
    # Every difference is below 4 x max; the second pass keeps d <= edge_cut * plain mean,
    # i.e. (d being an integer) d <= floor(edge_cut * plain mean).
    keep_all = np.full((n, 3), 4 * int(np.iinfo(src.dtype).max), np.int64)
    sums, counts = _second_difference_sums(src, row_step, keep_all)
    plain = sums / np.maximum(counts, 1)
    sums, counts = _second_difference_sums(src, row_step,
                                           np.floor(edge_cut * plain).astype(np.int64))
    robust = sums / np.maximum(counts, 1) / np.iinfo(src.dtype).max
    if bgr:
        robust = robust[:, ::-1]
    return torch.from_numpy((robust * mean_abs_to_sigma).astype(np.float32)).view(n, 3, 1, 1)


def frame_statistics(denoiser: torch.nn.Module, frames: np.ndarray, bgr: bool = False,
                     threads: int = 1) -> Tuple[Tensor, Tensor]:
    """The full-resolution inputs of a :class:`NoiseAdaptiveGuidedFilter`'s coefficients.

    They depend on the frames only, so :func:`~.runtime.enhance_frames` computes them on a
    worker thread while the EFE runs (whose two threads leave a core partly idle).

    Args:
        denoiser (NoiseAdaptiveGuidedFilter): The model's denoiser.
        frames (np.ndarray): N x H x W x 3 uint8/uint16, RGB (BGR with ``bgr=True``).
        bgr (bool): Channel order of ``frames``.
        threads (int): Worker threads of the pooling. Defaults to 1.

    Returns:
        tuple[Tensor, Tensor]: ``pool(frames)`` (N, 3, h', w') and ``estimate_noise(frames)``
        (N, 3, 1, 1), RGB order.
    """
    pooled = torch.from_numpy(pool_frames(frames, denoiser.scale, bgr=bgr, threads=threads))
    sigma = noise_differences_sigma(frames, denoiser.noise_row_step, denoiser.edge_cut,
                                    denoiser.mean_abs_to_sigma, bgr=bgr)
    return pooled, sigma


def fold_gain(maps: Tuple[np.ndarray, ...], gain: np.ndarray,
              black: Optional[np.ndarray] = None) -> Tuple[np.ndarray, ...]:
    """Folds the exposure control's gain ``g`` and black point ``k`` into affine maps, in
    place: maps ``(a, b[, c])`` for the gained frame ``g x`` become maps for ``x`` itself,
    ``(a (g x_mid) + c (g x) + b - g k) / (1 - k)`` (``SGZEnhancer.curve_input``; the
    constants of :func:`~.low_res_kernels.gain_fold_constants`, which the stock denoiser's
    kernel applies as it writes its maps).

    Args:
        maps (tuple[np.ndarray, ...]): ``(a, b)`` or ``(a, b, c)``, each (N, 3, h, w) float32,
            written in place.
        gain (np.ndarray): (N,) gains ``g``.
        black (np.ndarray, optional): (N,) black points ``k`` in [0, 1); None: no black point.

    Returns:
        tuple[np.ndarray, ...]: ``maps``.
    """
    scale, norm, shift = (v.reshape(-1, 1, 1, 1) for v in gain_fold_constants(gain, black).T)
    for m in maps[:1] + maps[2:]:  # the pixel terms a and c
        m *= scale
    if black is not None:
        maps[1][...] *= norm
        maps[1][...] -= shift
    return maps


def denoiser_affine_maps(denoiser: torch.nn.Module, frames: np.ndarray, factor: Tensor,
                         num_iterations: int, bgr: bool = False, threads: int = 1,
                         statistics: Optional[Tuple[Tensor, Tensor]] = None,
                         gain: Optional[np.ndarray] = None,
                         black: Optional[np.ndarray] = None) -> Tuple[np.ndarray, ...]:
    """The low-resolution maps of a :class:`NoiseAdaptiveGuidedFilter` for frames.

    Args:
        denoiser (NoiseAdaptiveGuidedFilter): The model's denoiser.
        frames (np.ndarray): N x H x W x 3 uint8/uint16, RGB (BGR with ``bgr=True``).
        factor (Tensor): The low-resolution factor map (N, C, h, w), RGB order.
        num_iterations (int): The curve's steps.
        bgr (bool): Channel order of ``frames``; the maps come back in the same order.
        threads (int): Worker threads of the pooling and of the stock kernel's
            coefficients. Defaults to 1.
        statistics (tuple[Tensor, Tensor], optional): :func:`frame_statistics` of ``frames``
            if already computed.
        gain (np.ndarray, optional): (N,) gains that multiply the frames before the denoiser
            (``SGZEnhancer.input_gain``); the maps then apply to the frames themselves.
        black (np.ndarray, optional): (N,) black points ``k`` of the exposure control (with
            ``gain`` only): the denoised gained frame ``d`` becomes ``(d - g k) / (1 - k)``.

    Returns:
        tuple[np.ndarray, ...]: (N, 3, h', w') float32 maps for ``apply_curve_maps(...,
        affine=maps)``: ``(a, b)`` at ``detail_radius = 0`` (``x' = a x + b``), else
        ``(a, b, c)`` (``x' = a x_mid + c x + b``, ``x_mid`` the 3 x 3 mean), in any memory
        layout (the stock kernel's: views of channels-last (N, h', w', 3) arrays).
    """
    pooled, sigma = statistics or frame_statistics(denoiser, frames, bgr, threads)
    if gain is not None:  # the statistics of the gained frames (pooling and noise are linear)
        # In NumPy: a PyTorch operation this size wakes its OpenMP threads, which then spin
        # for a while on the cores the kernels below need (1080p: 1.6 ms lost).
        g = np.asarray(gain, np.float32).reshape(-1, 1, 1, 1)
        pooled = torch.from_numpy(pooled.numpy() * g)
        sigma = torch.from_numpy(sigma.numpy() * g)
    if is_stock(denoiser, STOCK_DENOISER):
        maps = guided_filter_coefficients(
            denoiser, pooled.numpy(), factor.float().numpy(), sigma.numpy(), num_iterations,
            threads=threads, fold=None if gain is None else gain_fold_constants(gain, black))
    else:
        with torch.inference_mode():
            maps = tuple(m.numpy() for m in denoiser.coefficients(pooled, factor, sigma,
                                                                  num_iterations))
        if gain is not None:  # in place: the maps are this call's own arrays
            fold_gain(maps, gain, black)
    if denoiser.detail_radius == 0:
        maps = maps[:2]  # c = 0
    if bgr:
        maps = tuple(m[:, ::-1] for m in maps)
    # As they are: the fused curve pass makes the one channels-last copy a layout needs (none
    # for the stock kernel's maps).
    return maps
