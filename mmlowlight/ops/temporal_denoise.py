"""numba kernel of one step of
:class:`~mmlowlight.models.video_denoisers.MotionAdaptiveTemporalDenoiser` (8-bit YUV planes).

The same arithmetic as the PyTorch reference :func:`motion_adaptive_step_torch`, in float32,
in one pass over each plane: the 3 x 3 box mean of the difference to the running mean comes from
a ring of three row sums, so each input pixel is read about once, and the inner loops are
branch-free over contiguous rows so that LLVM vectorises them. The running means are updated in
place; that is safe in this sequential row order because every row sum is taken before the row
it reads is overwritten. The kernel releases the GIL, so decoding, enhancing and encoding run
beside it in other threads.

Planes are passed flat, with their row stride (:func:`flat_plane`), so that an FFmpeg frame's
padded planes are read and written in place: a strided 2-D view would compile to non-contiguous
loads, several times slower.
"""
from typing import Sequence, Tuple

import numba
import numpy as np

__all__ = ['motion_adaptive_step_numba', 'flat_plane']


def flat_plane(plane: np.ndarray) -> Tuple[np.ndarray, int]:
    """A 2-D array whose rows are contiguous as a flat 1-D view of its pixels and the row stride
    (in elements): pixel (i, j) is ``flat[i * stride + j]``. No copy.

    Raises:
        ValueError: The rows are not contiguous.
    """
    if plane.ndim != 2 or plane.strides[1] != plane.itemsize or plane.strides[0] % plane.itemsize:
        raise ValueError(f'expected a 2-D array with contiguous rows, got shape {plane.shape} '
                         f'strides {plane.strides}')
    height, width = plane.shape
    stride = plane.strides[0] // plane.itemsize
    size = (height - 1) * stride + width if height else 0
    flat = np.lib.stride_tricks.as_strided(plane, (size,), (plane.itemsize,))
    return flat, stride


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _row_sums(plane, stride, mean, row, diff, ring):
    """Horizontal 3-sums (edge pixels replicated) of ``plane - mean`` on ``row``, into
    ``ring[row % 3]``; ``diff`` is a scratch row."""
    width = mean.shape[1]
    slot = ring[row % 3]
    source = plane[row * stride:row * stride + width]
    mean_row = mean[row]
    for j in range(width):
        diff[j] = np.float32(source[j]) - mean_row[j]
    if width == 1:
        slot[0] = 3 * diff[0]
        return
    for j in range(1, width - 1):
        slot[j] = diff[j - 1] + diff[j] + diff[j + 1]
    slot[0] = 2 * diff[0] + diff[1]
    slot[width - 1] = 2 * diff[width - 1] + diff[width - 2]


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy', inline='always')
def _ramp(value, low, inverse_span):
    return min(max((value - low) * inverse_span, np.float32(0)), np.float32(1))


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy', inline='always')
def _to_uint8(value):
    return np.uint8(min(max(value + np.float32(0.5), np.float32(0)), np.float32(255)))


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _luma(plane, stride, mean, count, out, out_stride, chroma_motion, sigma, low, high, spike,
          max_frames):
    height, width = mean.shape
    one, ninth = np.float32(1), np.float32(1.0 / 9.0)
    box_low, box_inverse = low * sigma, one / ((high - low) * sigma)
    spike_low, spike_inverse = spike * sigma, one / sigma
    ring = np.empty((3, width), np.float32)
    scratch = np.empty(width, np.float32)
    motion = np.empty(width, np.float32)
    chroma_height, chroma_width = chroma_motion.shape
    step_y = (height + chroma_height - 1) // chroma_height
    step_x = (width + chroma_width - 1) // chroma_width
    chroma_motion[:] = 0
    _row_sums(plane, stride, mean, 0, scratch, ring)
    if height > 1:
        _row_sums(plane, stride, mean, 1, scratch, ring)
    for i in range(height):
        up = ring[(i - 1) % 3] if i > 0 else ring[0]
        mid = ring[i % 3]
        down = ring[(i + 1) % 3] if i + 1 < height else mid
        # Row slices, not flat indexing: only then do the loops vectorise.
        source = plane[i * stride:i * stride + width]
        target = out[i * out_stride:i * out_stride + width]
        mean_row, count_row = mean[i], count[i]
        # Two simple loops vectorise; one loop doing both does not (too many streams).
        for j in range(width):
            diff = np.float32(source[j]) - mean_row[j]
            box = abs(up[j] + mid[j] + down[j]) * ninth
            motion[j] = max(_ramp(box, box_low, box_inverse),
                            _ramp(abs(diff), spike_low, spike_inverse))
        for j in range(width):
            n = min(one + (one - motion[j]) * count_row[j], max_frames)
            count_row[j] = n
            value = mean_row[j] + (np.float32(source[j]) - mean_row[j]) / n
            mean_row[j] = value
            target[j] = _to_uint8(value)
        # The chroma pixels take the largest motion of the luma pixels they cover.
        target = chroma_motion[i // step_y]
        for k in range(step_x):
            for jc in range((width - k + step_x - 1) // step_x):
                target[jc] = max(target[jc], motion[jc * step_x + k])
        # Row i + 2 is summed only now: the sums of row i + 1 were taken before, and row i + 2
        # is still unmodified.
        if i + 2 < height:
            _row_sums(plane, stride, mean, i + 2, scratch, ring)


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _chroma(u, u_stride, v, v_stride, mean_u, mean_v, count, luma_motion, out_u, out_u_stride,
            out_v, out_v_stride, sigma_u, sigma_v, low, high, max_frames):
    height, width = mean_u.shape
    one, ninth = np.float32(1), np.float32(1.0 / 9.0)
    low_u, inverse_u = low * sigma_u, one / ((high - low) * sigma_u)
    low_v, inverse_v = low * sigma_v, one / ((high - low) * sigma_v)
    ring_u = np.empty((3, width), np.float32)
    ring_v = np.empty((3, width), np.float32)
    scratch = np.empty(width, np.float32)
    _row_sums(u, u_stride, mean_u, 0, scratch, ring_u)
    _row_sums(v, v_stride, mean_v, 0, scratch, ring_v)
    if height > 1:
        _row_sums(u, u_stride, mean_u, 1, scratch, ring_u)
        _row_sums(v, v_stride, mean_v, 1, scratch, ring_v)
    for i in range(height):
        prev, mid, nxt = (i - 1 if i > 0 else 0) % 3, i % 3, (i + 1 if i + 1 < height else i) % 3
        up_u, mid_u, down_u = ring_u[prev], ring_u[mid], ring_u[nxt]
        up_v, mid_v, down_v = ring_v[prev], ring_v[mid], ring_v[nxt]
        mu, mv, cr, lm = mean_u[i], mean_v[i], count[i], luma_motion[i]
        su, sv = u[i * u_stride:i * u_stride + width], v[i * v_stride:i * v_stride + width]
        tu = out_u[i * out_u_stride:i * out_u_stride + width]
        tv = out_v[i * out_v_stride:i * out_v_stride + width]
        for j in range(width):
            box_u = abs(up_u[j] + mid_u[j] + down_u[j]) * ninth
            box_v = abs(up_v[j] + mid_v[j] + down_v[j]) * ninth
            m = max(lm[j], max(_ramp(box_u, low_u, inverse_u), _ramp(box_v, low_v, inverse_v)))
            cr[j] = min(one + (one - m) * cr[j], max_frames)
        for j in range(width):
            value = mu[j] + (np.float32(su[j]) - mu[j]) / cr[j]
            mu[j] = value
            tu[j] = _to_uint8(value)
        for j in range(width):
            value = mv[j] + (np.float32(sv[j]) - mv[j]) / cr[j]
            mv[j] = value
            tv[j] = _to_uint8(value)
        if i + 2 < height:
            _row_sums(u, u_stride, mean_u, i + 2, scratch, ring_u)
            _row_sums(v, v_stride, mean_v, i + 2, scratch, ring_v)


def motion_adaptive_step_numba(planes: Sequence[np.ndarray], means: Sequence[np.ndarray],
                               counts: Sequence[np.ndarray], sigmas: Sequence[float],
                               outs: Sequence[np.ndarray], low: float, high: float,
                               spike: float, max_frames: float) -> None:
    """One frame of the motion-adaptive recursive filter, in place on the state.

    Args:
        planes (Sequence[np.ndarray]): Y (H, W) and, optionally, U and V (h, w) uint8 planes
            with contiguous rows (padded frame planes are fine).
        means (Sequence[np.ndarray]): Running float32 C-contiguous means, one per plane
            (updated).
        counts (Sequence[np.ndarray]): float32 C-contiguous frames-averaged counts at luma and
            (with chroma) chroma resolution (updated).
        sigmas (Sequence[float]): Noise standard deviation per plane, grey levels (> 0).
        outs (Sequence[np.ndarray]): uint8 planes with contiguous rows, same shapes as
            ``planes``, that the filtered frame is written to.
        low, high (float): Box-mean difference, in sigmas, where motion starts / is certain
            (``low < high``).
        spike (float): Single-pixel difference, in sigmas, above which a pixel is moving.
        max_frames (float): Most frames averaged in a static pixel.
    """
    f32 = np.float32
    flat = [flat_plane(p) for p in planes]
    flat_outs = [flat_plane(o) for o in outs]
    chroma_shape = planes[1].shape if len(planes) == 3 else (1, 1)
    chroma_motion = np.empty(chroma_shape, np.float32)
    _luma(*flat[0], means[0], counts[0], *flat_outs[0], chroma_motion, f32(sigmas[0]), f32(low),
          f32(high), f32(spike), f32(max_frames))
    if len(planes) == 3:
        _chroma(*flat[1], *flat[2], means[1], means[2], counts[1], chroma_motion,
                *flat_outs[1], *flat_outs[2], f32(sigmas[1]), f32(sigmas[2]), f32(low),
                f32(high), f32(max_frames))
