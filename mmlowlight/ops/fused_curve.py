"""One pass from integer frame to integer frame: upsample the low-resolution maps, run the curve,
round and clamp.

Per output row, in a buffer the size of one row (it stays in the L1/L2 cache):

1. the low-resolution factor map, and the optional affine maps ``a``, ``b``, are upsampled with
   ``align_corners=True`` bilinear weights (each map at its own resolution). Each low-resolution
   row is interpolated along W once and kept while the output rows between it and the next one
   are blended from the two expanded rows;
2. ``x = v / max`` (``v`` uint8 or uint16), then ``x = max(a * x + b, 0)`` where affine maps
   are given, the values above a knee rolled off with ``rolloff`` (into a row buffer; only the
   blocks of 64 values that hold one pay for the roll-off's division);
3. ``num_iterations`` steps of ``x <- x + r * (x**2 - x)`` (one shared ``r`` or one per step);
4. ``round(clamp(x, 0, 1) * max)`` back to the input's integer type.

With a third map ``c`` (the denoiser's two-scale form) step 2 is ``x = max(a * x_mid + c * x +
b, 0)``, ``x_mid`` the mean of the 3 x 3 pixels around each pixel that lie in its image: the
vertical sums of the row and its neighbours go into a row buffer, then a 3-tap sum along the row.
Written in place (``out`` is the input), each row is copied to a buffer before its output
overwrites it (the loops then vectorise, and the 3 x 3 window finds the previous row as it was),
and the rows just outside each task's range are copied before any task starts.

Rows are split between worker threads (the kernel releases the GIL). The arithmetic is float32
with fused multiply-adds (``fastmath``), so it differs from the PyTorch reference by float
rounding only: at most one grey level, and in very few pixels.
"""
import functools
from typing import Optional, Tuple

import numba
import numpy as np

from mmlowlight.utils import run_jobs
from .sampling import linear_taps

__all__ = ['apply_curve_maps', 'ROWS_PER_TASK']

#: Fewest output rows per worker task (smaller frames run in fewer tasks).
ROWS_PER_TASK = 32
#: Tasks per thread: on shared cores a preempted thread would hold up an even split; smaller
#: tasks let the others take over its share.
TASKS_PER_THREAD = 4


@numba.njit(nogil=True, cache=True, fastmath=True)
def _expanded_row(maps, n, row, segments, lam, expanded, tags):
    """Low-resolution row ``row`` of image ``n`` of ``maps`` (N, h, w * C), interpolated along
    W to (C // 3, W * 3) in ``expanded[row % 2]``, unless it is there already (``tags`` says
    which row each of the two slots holds).

    ``segments`` (S, 4): the runs of output columns ``[start, stop)`` that interpolate between
    the same two input columns ``i0``, ``i1`` (rows ``(i0, i1, start, stop)``), ``lam`` (W,)
    the weight of ``i1`` per output column. Run by run, the two input values are in registers
    and each output value is one multiply-add (a lookup of both inputs per output value, which
    does not vectorise, took twice as long: 1.4 against 0.6 ms per map of 270 x 480 at
    1080p). A run's columns go 4 at a time (straight-line stores into a slice: 23 % faster than
    one column per iteration on runs of 4, the denoiser's maps at 1/4 resolution)."""
    slot = row % 2
    tag = n * maps.shape[1] + row
    if tags[slot] != tag:
        tags[slot] = tag
        source = maps[n, row]
        channels = 3 * expanded.shape[1]
        for s in range(expanded.shape[1]):
            dest = expanded[slot, s]
            for g in range(segments.shape[0]):
                p0 = segments[g, 0] * channels + 3 * s
                p1 = segments[g, 1] * channels + 3 * s
                v0, v1, v2 = source[p0], source[p0 + 1], source[p0 + 2]
                d0, d1, d2 = source[p1] - v0, source[p1 + 1] - v1, source[p1 + 2] - v2
                x, stop = segments[g, 2], segments[g, 3]
                while x + 4 <= stop:  # 4 columns at a time, into a slice (indices from 0)
                    wa, wb, wc, wd = lam[x], lam[x + 1], lam[x + 2], lam[x + 3]
                    run = dest[3 * x:3 * x + 12]
                    run[0], run[1], run[2] = v0 + wa * d0, v1 + wa * d1, v2 + wa * d2
                    run[3], run[4], run[5] = v0 + wb * d0, v1 + wb * d1, v2 + wb * d2
                    run[6], run[7], run[8] = v0 + wc * d0, v1 + wc * d1, v2 + wc * d2
                    run[9], run[10], run[11] = v0 + wd * d0, v1 + wd * d1, v2 + wd * d2
                    x += 4
                while x < stop:
                    weight, k = lam[x], 3 * x
                    dest[k] = v0 + weight * d0
                    dest[k + 1] = v1 + weight * d1
                    dest[k + 2] = v2 + weight * d2
                    x += 1
    return expanded[slot]


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always')
def _curve8(x, r):
    # SGZ's 8 steps. A constant trip count lets LLVM unroll them and vectorise the loop over
    # the row around them (about 10x faster than a loop of unknown length).
    for _ in range(8):
        x = x + r * (x * x - x)
    return x


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always')
def _curve(x, r, num_iterations):
    for _ in range(num_iterations):
        x = x + r * (x * x - x)
    return x


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always')
def _curve8_row(source, scale, out, r0, r1, v0, v1, max_value):
    """``out[k] = round(curve8(max(source[k] * scale, 0), r0[k] v0 + r1[k] v1))`` for a row.

    Four quarters of the row at once: one pixel's 16 curve operations depend on each other, and
    LLVM vectorises the loop without interleaving it, so a single stream waits on the FMA's
    latency; four independent streams per iteration fill the pipelines (the curve of a 1080p
    frame 4.9 -> 3.7 ms, one thread; the same operations per value, so the same result)."""
    n = source.shape[0]
    h = n // 32 * 8  # quarters of whole 8-value vectors: each starts as aligned as the row
    x_a, x_b, x_c, x_d = source[:h], source[h:2 * h], source[2 * h:3 * h], source[3 * h:4 * h]
    o_a, o_b, o_c, o_d = out[:h], out[h:2 * h], out[2 * h:3 * h], out[3 * h:4 * h]
    p_a, p_b, p_c, p_d = r0[:h], r0[h:2 * h], r0[2 * h:3 * h], r0[3 * h:4 * h]
    q_a, q_b, q_c, q_d = r1[:h], r1[h:2 * h], r1[2 * h:3 * h], r1[3 * h:4 * h]
    zero = np.float32(0)
    for k in range(h):
        a = max(np.float32(x_a[k]) * scale, zero)
        b = max(np.float32(x_b[k]) * scale, zero)
        c = max(np.float32(x_c[k]) * scale, zero)
        d = max(np.float32(x_d[k]) * scale, zero)
        ra, rb = p_a[k] * v0 + q_a[k] * v1, p_b[k] * v0 + q_b[k] * v1
        rc, rd = p_c[k] * v0 + q_c[k] * v1, p_d[k] * v0 + q_d[k] * v1
        for _ in range(8):
            a = a + ra * (a * a - a)
            b = b + rb * (b * b - b)
            c = c + rc * (c * c - c)
            d = d + rd * (d * d - d)
        o_a[k] = _to_integer(a, max_value)
        o_b[k] = _to_integer(b, max_value)
        o_c[k] = _to_integer(c, max_value)
        o_d[k] = _to_integer(d, max_value)
    for k in range(4 * h, n):
        x = max(np.float32(source[k]) * scale, zero)
        out[k] = _to_integer(_curve8(x, r0[k] * v0 + r1[k] * v1), max_value)


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always')
def _shared_row(source, out, r0, r1, v0, v1, scale, max_value, num_iterations):
    """A row with one factor map for every step; the curve runs on ``max(source * scale,
    0)`` (an integer row and ``1 / max``, or the affine maps' float result and 1)."""
    if num_iterations == 8:
        _curve8_row(source, scale, out, r0, r1, v0, v1, max_value)
    else:
        for k in range(source.shape[0]):
            x = max(np.float32(source[k]) * scale, np.float32(0))
            out[k] = _to_integer(_curve(x, r0[k] * v0 + r1[k] * v1, num_iterations), max_value)


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always', error_model='numpy')
def _curve_input(x, knee, rate):
    """``SGZEnhancer.curve_input``'s end: ``x`` >= 0 with the values above ``knee`` rolled
    off (``rate`` 0: clamped to 1 only; see ``CurveExposureControl.roll_off``)."""
    x = max(x, np.float32(0))
    excess = max(x - knee, np.float32(0))
    return min(min(x, knee) + excess / (np.float32(1) + rate * excess), np.float32(1))


#: Values per block of a row that the roll-off tests for a value above the knee at once.
_ROLLOFF_BLOCK = 64


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always', error_model='numpy')
def _curve_from_buffer(values, out, r0, r1, v0, v1, max_value, num_iterations, knee, rate):
    """The curve on ``_curve_input(values)`` (the affine maps' result of a row), into ``out``.

    Blocks of ``_ROLLOFF_BLOCK`` values with none above ``min(knee, 1)`` skip the roll-off,
    whose division cost a third of a detail row's time (at the default knee 0.6 nearly every
    row of a dark 1080p frame holds a value above it, 4 % of the values do); ``max(v, 0)`` is
    then exactly ``_curve_input(v)``. Each block is tested first, in its own loop: a running
    maximum inside the affine loop kept LLVM from vectorising it (2.5x slower). The test sums
    the excesses over the bound (a sum of booleans took 1.5x as long)."""
    bound = min(knee, np.float32(1))
    for start in range(0, values.shape[0], _ROLLOFF_BLOCK):
        block = values[start:start + _ROLLOFF_BLOCK]
        over = np.float32(0)
        for k in range(block.shape[0]):
            over += max(block[k] - bound, np.float32(0))
        if over > 0:
            for k in range(block.shape[0]):
                block[k] = _curve_input(block[k], knee, rate)
    _shared_row(values, out, r0, r1, v0, v1, np.float32(1), max_value, num_iterations)


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always', error_model='numpy')
def _shared_affine_row(line, values, out, r0, r1, v0, v1, a0, a1, b0, b1, u0, u1, scale,
                       max_value, num_iterations, knee, rate):
    """As ``_shared_row``, the curve on ``a * line * scale + b`` (see ``_curve_input``);
    ``values`` (W * 3) float32: scratch."""
    for k in range(line.shape[0]):
        values[k] = (a0[k] * u0 + a1[k] * u1) * (np.float32(line[k]) * scale) + (
            b0[k] * u0 + b1[k] * u1)
    _curve_from_buffer(values, out, r0, r1, v0, v1, max_value, num_iterations, knee, rate)


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always', error_model='numpy')
def _shared_detail_row(line, sums, weight, values, out, r0, r1, v0, v1, a0, a1, b0, b1, c0, c1,
                       u0, u1, scale, max_value, num_iterations, knee, rate):
    """As ``_shared_affine_row``, the curve on ``a * x_mid + c * line * scale + b``;
    ``x_mid = (sums[k] + sums[k + 3] + sums[k + 6]) * weight[k]`` (see ``_vertical_sums``)."""
    for k in range(line.shape[0]):
        mid = _window_sum(sums, k) * weight[k]
        values[k] = (a0[k] * u0 + a1[k] * u1) * mid + (c0[k] * u0 + c1[k] * u1) * (
            np.float32(line[k]) * scale) + (b0[k] * u0 + b1[k] * u1)
    _curve_from_buffer(values, out, r0, r1, v0, v1, max_value, num_iterations, knee, rate)


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always')
def _window_sum(sums, k):
    """The 3 x 3 window sum at flat index ``k`` from the integer column sums (see
    ``_vertical_sums``), as float32: summed in 32-bit integers, which AVX2 converts 8 at a
    time (64-bit ones it does not)."""
    return np.float32(np.int32(sums[k] + sums[k + 3] + sums[k + 6]))


@numba.njit(nogil=True, cache=True, fastmath=True)
def _vertical_sums(up, line, down, has_up, has_down, sums):
    """The 3 x 3 window sums of row ``line`` (W * 3 interleaved channels), first along the
    columns: ``sums[k + 3]`` = ``line[k]`` plus ``up[k]``/``down[k]`` where those rows exist
    (``has_*``); ``sums``' first and last 3 entries stay 0, so the window sum along the row is
    ``sums[k] + sums[k + 3] + sums[k + 6]`` everywhere. Returns the number of rows summed.

    Integer sums (uint16 for uint8 rows): twice the values per vector of float32 sums, and one
    conversion to float per value instead of three (the pass at 1080p 12.0 -> 11.7 ms, one
    thread; integer sums are exact, so the result is the same)."""
    width3 = line.shape[0]
    if has_up and has_down:
        for k in range(width3):
            sums[k + 3] = up[k] + line[k] + down[k]
        return 3
    if has_up or has_down:
        other = up if has_up else down
        for k in range(width3):
            sums[k + 3] = other[k] + line[k]
        return 2
    for k in range(width3):
        sums[k + 3] = line[k]
    return 1


@numba.njit(nogil=True, cache=True, fastmath=True, inline='always')
def _to_integer(x, max_value):
    return np.rint(min(max(x, np.float32(0)), np.float32(1)) * max_value)


# error_model='numpy': the roll-off's division must not get Python's zero-division check, a
# branch that keeps LLVM from vectorising the row loops (3x slower at 1080p).
@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _curve_rows(src, dst, row_start, row_stop, height, num_iterations, n_maps, max_value,
                factor, fy0, fy1, fw0, fw1, f_segments, flam,
                has_affine, a_map, b_map, ay0, ay1, aw0, aw1, a_segments, alam,
                has_detail, c_map, above, below, column_weight, in_place, knee, rates,
                sum_type):
    """Output rows ``[row_start, row_stop)`` of ``dst`` (N * H, W * 3) from ``src`` (same).

    ``factor`` (N, h, w * 3 * S), ``a_map``/``b_map``/``c_map`` (N, ha, wa * 3): channels-last
    rows of the low-resolution maps; ``*y0, *y1, *w0, *w1`` their tables per output row,
    ``*i0, *i1, *lam`` per flattened output column (W * 3). With ``has_detail``: ``above``,
    ``below`` the input rows ``row_start - 1`` and ``row_stop`` as they were before any task
    started (``dst`` may be ``src``), ``column_weight`` (3, W * 3) the weights of the window
    sums of 1, 2 or 3 rows (see ``_column_weights``), ``in_place``: ``dst`` shares ``src``'s
    memory. ``knee``, ``rates`` (N,): the roll-off of the affine map's result (see
    ``_curve_input``). ``sum_type``: an empty array of the integer type of the window sums.
    """
    width3 = src.shape[1]
    f_expanded = np.empty((2, n_maps, width3), np.float32)
    f_tags = np.full(2, -1, np.int64)
    affine_width = width3 if has_affine else 1
    a_expanded = np.empty((2, 1, affine_width), np.float32)
    b_expanded = np.empty((2, 1, affine_width), np.float32)
    a_tags = np.full(2, -1, np.int64)
    b_tags = np.full(2, -1, np.int64)
    detail_width = width3 if has_detail else 1
    c_expanded = np.empty((2, 1, detail_width), np.float32)
    c_tags = np.full(2, -1, np.int64)
    sums = np.zeros(detail_width + 6, sum_type.dtype)
    values = np.empty(affine_width, np.float32)
    # In place, each input row is copied before its output overwrites it: the curve loops then
    # read a buffer that no store aliases (reading the row being written kept them from
    # vectorising: 4x slower), and the 3 x 3 window finds row g - 1 as it was.
    copies = np.empty((2, width3 if in_place else 1), src.dtype)
    scale = np.float32(1) / max_value
    for g in range(row_start, row_stop):
        n = g // height
        y = g - n * height
        f0 = _expanded_row(factor, n, fy0[y], f_segments, flam, f_expanded, f_tags)
        f1 = _expanded_row(factor, n, fy1[y], f_segments, flam, f_expanded, f_tags)
        v0, v1 = fw0[y], fw1[y]
        line = src[g]
        if in_place:
            copy = copies[g % 2]
            for k in range(width3):
                copy[k] = line[k]
            line = copy
        out = dst[g]
        if n_maps == 1 and not has_affine:  # the common case
            _shared_row(line, out, f0[0], f1[0], v0, v1, scale, max_value, num_iterations)
            continue
        if has_affine:
            a0 = _expanded_row(a_map, n, ay0[y], a_segments, alam, a_expanded, a_tags)[0]
            a1 = _expanded_row(a_map, n, ay1[y], a_segments, alam, a_expanded, a_tags)[0]
            b0 = _expanded_row(b_map, n, ay0[y], a_segments, alam, b_expanded, b_tags)[0]
            b1 = _expanded_row(b_map, n, ay1[y], a_segments, alam, b_expanded, b_tags)[0]
            u0, u1 = aw0[y], aw1[y]
        else:  # the identity, for the per-step branch below
            a0 = a1 = b0 = b1 = a_expanded[0, 0]
            u0 = u1 = np.float32(0)
        if has_detail:
            c0 = _expanded_row(c_map, n, ay0[y], a_segments, alam, c_expanded, c_tags)[0]
            c1 = _expanded_row(c_map, n, ay1[y], a_segments, alam, c_expanded, c_tags)[0]
            up = above if g == row_start else (copies[(g - 1) % 2] if in_place else src[g - 1])
            down = below if g + 1 == row_stop else src[g + 1]
            rows = _vertical_sums(up, line, down, y > 0, y < height - 1, sums)
            weight = column_weight[rows - 1]  # scale / the window's pixel count
            if n_maps == 1:
                _shared_detail_row(line, sums, weight, values, out, f0[0], f1[0], v0, v1, a0,
                                   a1, b0, b1, c0, c1, u0, u1, scale, max_value, num_iterations,
                                   knee, rates[n])
                continue
        if n_maps == 1:
            _shared_affine_row(line, values, out, f0[0], f1[0], v0, v1, a0, a1, b0, b1, u0, u1,
                               scale, max_value, num_iterations, knee, rates[n])
            continue
        for k in range(width3):  # one map per step (Zero-DCE): rare, not vectorised
            x = np.float32(line[k]) * scale
            if has_detail:
                mid = _window_sum(sums, k) * weight[k]
                x = _curve_input((a0[k] * u0 + a1[k] * u1) * mid + (c0[k] * u0 + c1[k] * u1)
                                 * x + (b0[k] * u0 + b1[k] * u1), knee, rates[n])
            elif has_affine:
                x = _curve_input((a0[k] * u0 + a1[k] * u1) * x + (b0[k] * u0 + b1[k] * u1),
                                 knee, rates[n])
            for step in range(num_iterations):
                x = _curve(x, f0[step, k] * v0 + f1[step, k] * v1, 1)
            out[k] = _to_integer(x, max_value)


def _channels_last_rows(low_res: np.ndarray) -> np.ndarray:
    """(N, C, h, w) -> contiguous float32 (N, h, w * C)."""
    n, _, small_h, _ = low_res.shape
    return np.ascontiguousarray(low_res.transpose(0, 2, 3, 1),
                                dtype=np.float32).reshape(n, small_h, -1)


@functools.lru_cache(maxsize=16)  # ~0.1 MB per entry at 4K
def _upsampling_tables(small_h: int, small_w: int, height: int, width: int
                       ) -> Tuple[tuple, tuple]:
    """The row tables (index0, index1, weight0, weight1) per output row, and the column tables
    (segments, weight1) of ``_expanded_row``, of a (small_h, small_w) map upsampled to
    height x width. Cached: the frames of a video share them."""
    ys = linear_taps(small_h, height, True)
    xs = linear_taps(small_w, width, True)
    # Runs of output columns with the same input pair (index0 never decreases; index1 is
    # index0 + 1, or index0 at the last input column).
    starts = np.flatnonzero(np.diff(xs.index0, prepend=-1))
    stops = np.append(starts[1:], width)
    segments = np.stack([xs.index0[starts], xs.index1[starts], starts, stops], axis=1)
    return ((ys.index0, ys.index1, ys.weight0, ys.weight1),
            (np.ascontiguousarray(segments, np.int64), xs.weight1))


class _MapTables:
    """Row and flattened-column upsampling tables of one low-resolution map, plus the map as
    (N, h, w * C) float32 channels-last rows."""

    def __init__(self, low_res: np.ndarray, height: int, width: int) -> None:
        self.rows = _channels_last_rows(low_res)
        self.y, self.x = _upsampling_tables(*low_res.shape[2:], height, width)


def _check_map(name: str, low_res: np.ndarray, n: int, channels: Optional[int] = None) -> None:
    if not (isinstance(low_res, np.ndarray) and low_res.ndim == 4 and low_res.shape[0] == n
            and low_res.shape[2] >= 1 and low_res.shape[3] >= 1
            and (low_res.shape[1] == channels if channels else low_res.shape[1] % 3 == 0
                 and low_res.shape[1] > 0)):
        raise ValueError(f'{name} must be an (N={n}, {channels or "3k"}, h, w) array, got '
                         f'{getattr(low_res, "shape", type(low_res).__name__)}')


@functools.lru_cache(maxsize=16)
def _column_weights(width: int, max_value: float) -> np.ndarray:
    """(3, W * 3): ``1 / (max_value * pixels in the 3 x 3 window)`` per flattened column, for a
    window of 1, 2 or 3 rows."""
    column = np.arange(width)
    count = np.repeat(1 + (column > 0) + (column < width - 1), 3)
    return (1 / (max_value * np.arange(1, 4)[:, None] * count)).astype(np.float32)


def apply_curve_maps(frames: np.ndarray,
                     factor: np.ndarray,
                     num_iterations: int = 8,
                     affine: Optional[Tuple[np.ndarray, ...]] = None,
                     threads: int = 1,
                     out: Optional[np.ndarray] = None,
                     rolloff: Optional[Tuple[float, np.ndarray]] = None) -> np.ndarray:
    """Enhance integer frames with low-resolution factor (and affine) maps in one pass.

    Args:
        frames (np.ndarray): N x H x W x 3 uint8 or uint16 frames, in any channel order.
        factor (np.ndarray): Low-resolution factor maps (N, 3, h, w) (one map for every step)
            or (N, 3 * num_iterations, h, w) (one per step), float32 in [-1, 1], channels in
            the order of the frames' channels.
        num_iterations (int): Curve steps. Defaults to 8.
        affine (tuple[np.ndarray, ...], optional): Low-resolution maps ``(a, b)``, each
            (N, 3, ha, wa) at a resolution of its own, channels in the frames' order; the curve
            then runs on ``max(a * x + b, 0)`` instead of ``x``. Or ``(a, b, c)`` of one shape:
            the curve runs on ``max(a * x_mid + c * x + b, 0)``, ``x_mid`` the mean of the
            3 x 3 pixels around each pixel inside its image (the denoiser's two-scale form:
            its smoothing weight on the 3 x 3 mean, part of the pixel itself added back).
            The result is clamped to 1 as well.
        threads (int): Worker threads. Defaults to 1.
        out (np.ndarray, optional): Where to write the result (frames' shape and dtype); may be
            ``frames`` itself.
        rolloff (tuple[float, np.ndarray], optional): ``(knee, rates)``, rates (N,): the affine
            map's result above ``knee`` is rolled off, ``min(v, knee) + d / (1 + rate * d)``
            with ``d = max(v - knee, 0)``, before the clamp
            (``CurveExposureControl.roll_off``; with ``affine`` only). None: clamped only.

    Returns:
        np.ndarray: The enhanced frames, N x H x W x 3, frames' dtype.
    """
    if not (isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.shape[-1] == 3
            and frames.dtype in (np.uint8, np.uint16)):
        raise TypeError(f'frames must be an N x H x W x 3 uint8/uint16 array, got '
                        f'{getattr(frames, "shape", type(frames).__name__)} '
                        f'{getattr(frames, "dtype", "")}')
    n, height, width, _ = frames.shape
    _check_map('factor', factor, n)
    n_maps = factor.shape[1] // 3
    if n_maps not in (1, num_iterations):
        raise ValueError(f'factor has {factor.shape[1]} channels; expected 3 or '
                         f'3 * num_iterations = {3 * num_iterations}')
    src = np.ascontiguousarray(frames)
    if out is None:
        out = np.empty_like(src)
    elif out.shape != src.shape or out.dtype != src.dtype or not out.flags.c_contiguous:
        raise ValueError(f'out must be a contiguous {src.dtype} array of shape {src.shape}')
    factor_tables = _MapTables(factor, height, width)
    detail = affine is not None and len(affine) == 3
    if affine is not None:
        if len(affine) not in (2, 3):
            raise ValueError(f'affine must be (a, b) or (a, b, c), got {len(affine)} maps')
        for name, low_res in zip('abc', affine):
            _check_map(f'affine {name}', low_res, n, 3)
            if low_res.shape != affine[0].shape:
                raise ValueError(f'affine maps must have one shape, got a {affine[0].shape} '
                                 f'and {name} {low_res.shape}')
        a_tables = _MapTables(affine[0], height, width)
        b_rows = _channels_last_rows(affine[1])
    else:  # placeholders of the right types: the kernel skips them
        a_tables = _MapTables(np.zeros((1, 3, 1, 1), np.float32), 1, 1)
        b_rows = a_tables.rows
    c_rows = _channels_last_rows(affine[2]) if detail else b_rows
    knee, rates = (1.0, np.zeros(n, np.float32)) if rolloff is None else rolloff
    rates = np.ascontiguousarray(rates, np.float32).reshape(-1)
    if rates.shape[0] != n or (rolloff is not None and affine is None):
        raise ValueError(f'rolloff needs affine maps and one rate per frame ({n}), got '
                         f'{rates.shape[0]} rates, affine {affine is not None}')
    # The 3 x 3 window sums in integers: the narrowest type that holds 9 values.
    sum_type = np.zeros(0, np.uint16 if src.dtype == np.uint8 else np.uint32)
    rows_total = n * height
    src_rows, dst_rows = src.reshape(rows_total, -1), out.reshape(rows_total, -1)
    max_value = np.float32(np.iinfo(src.dtype).max)
    column_weight = _column_weights(width, max_value) if detail else np.ones((3, 1), np.float32)
    tasks = max(1, min(threads * TASKS_PER_THREAD, rows_total // ROWS_PER_TASK))
    if threads == 1:
        tasks = 1
    bounds = np.linspace(0, rows_total, tasks + 1).astype(int)
    placeholder = np.zeros(1, src.dtype)
    in_place = np.shares_memory(src, out)
    # The input rows just outside each task, copied before any task writes: with out = frames
    # a neighbouring task may already have overwritten them.
    halos = [(src_rows[start - 1].copy() if detail and start > 0 else placeholder,
              src_rows[stop].copy() if detail and stop < rows_total else placeholder)
             for start, stop in zip(bounds[:-1], bounds[1:])]

    def run(task: int) -> None:
        start, stop = int(bounds[task]), int(bounds[task + 1])
        _curve_rows(src_rows, dst_rows, start, stop, height, num_iterations, n_maps, max_value,
                    factor_tables.rows, *factor_tables.y, *factor_tables.x,
                    affine is not None, a_tables.rows, b_rows, *a_tables.y, *a_tables.x,
                    detail, c_rows, *halos[task], column_weight, in_place, np.float32(knee),
                    rates, sum_type)

    # The tasks go to the caller and threads - 1 helpers (see run_jobs).
    run_jobs(run, [(task, ) for task in range(tasks)], threads, 'mmlowlight-curve')
    return out
