"""numba versions of the default model's low-resolution work, for the fast CPU runtime.

The fast runtime (:mod:`.runtime`) runs two thumbnail-sized computations per frame:

- :meth:`CurveExposureControl.forward <mmlowlight.models.enhancers.CurveExposureControl>`: a
  bisection of ``search_steps`` steps, each running the curve on a ``search_size`` square copy of
  the thumbnail, for the per-image scale ``alpha`` of the factor map;
- :meth:`NoiseAdaptiveGuidedFilter.coefficients
  <mmlowlight.models.denoisers.NoiseAdaptiveGuidedFilter>`: the curve's gain and lift, the
  black level, the box statistics and the maps ``(a, b, c)`` on the pooled image.

In PyTorch both are hundreds of tiny operations whose dispatch costs far more than their
arithmetic at these sizes (about 4 ms and 8-14 ms at 1080p); here each is one compiled call.
The arithmetic follows the PyTorch code step by step in float32 (the same operation order,
PyTorch's bilinear tables from :func:`~.sampling.linear_taps`, the nearest-rank black level, box
means over the pixels each window holds), without fused multiply-adds, so the results equal the
reference up to float rounding (~1e-6 relative; the box variance of flat regions is a difference
of nearly equal numbers, so ``a`` agrees there to ~1e-5 absolute). The PyTorch modules stay the
reference, and the code that training, the GPU and the ONNX export run.

Every kernel compiles with ``error_model='numpy'``: the default ('python') puts a zero-division
check, a branch, in every loop that divides, which keeps LLVM from vectorising it (the
denominators here are all bounded away from 0; the results are bit-identical). At 1080p the
denoiser's maps took 2.1 ms with the checks and 1.1 ms without (scale 8).
"""
import types
from typing import Optional, Tuple

import numba
import numpy as np

from mmlowlight.utils import run_jobs
from .light_sources import level_caps
from .sampling import linear_taps

__all__ = ['exposure_scale', 'exposure_gain', 'exposure_controlled_factor',
           'gain_fold_constants', 'guided_filter_coefficients', 'is_stock', 'STOCK_DENOISER',
           'STOCK_EXPOSURE_CONTROL', 'STOCK_REFINE']

#: The classes (and method) whose math the kernels here reproduce.
STOCK_DENOISER = ('mmlowlight.models.denoisers.noise_adaptive_guided_filter.'
                  'NoiseAdaptiveGuidedFilter')
STOCK_EXPOSURE_CONTROL = 'mmlowlight.models.enhancers.exposure_control.CurveExposureControl'
STOCK_REFINE = 'mmlowlight.models.enhancers.sgz.SGZEnhancer.refine_low_res_factor'

#: The guided filter's ``_TINY``: keeps ``a = (var + tiny) / (var + eps + tiny)`` at 1 where
#: ``eps = 0``.
_TINY = 1e-12

_F32 = np.float32


def is_stock(obj: object, qualified_name: str) -> bool:
    """Whether ``obj`` is exactly the class (or function) ``module.QualName`` (not a subclass,
    which may change the math the kernels here reproduce). By name, so that ``ops`` does not
    import ``mmlowlight.models``, which builds on it."""
    kind = obj if isinstance(obj, types.FunctionType) else type(obj)
    return f'{kind.__module__}.{kind.__qualname__}' == qualified_name


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _resize(src, y0, y1, wy0, wy1, x0, x1, wx0, wx1):
    """(C, h, w) -> (C, len(y0), len(x0)) bilinear with the given tables, in PyTorch's order:
    ``(row0 along W) * wy0 + (row1 along W) * wy1``. Each input row is interpolated along W
    once; the blends of the rows then vectorise."""
    channels, height = src.shape[0], src.shape[1]
    out_h, out_w = y0.shape[0], x0.shape[0]
    rows = np.empty((height, out_w), np.float32)
    out = np.empty((channels, out_h, out_w), np.float32)
    # Only the input rows that the output rows use (a band of a larger output: see
    # _band_coefficients); the tables never decrease.
    first, last = (y0[0], y1[out_h - 1] + 1) if out_h else (0, 0)
    for c in range(channels):
        for y in range(first, last):
            row, dest = src[c, y], rows[y]
            for ox in range(out_w):
                dest[ox] = row[x0[ox]] * wx0[ox] + row[x1[ox]] * wx1[ox]
        for oy in range(out_h):
            top, bottom, dest = rows[y0[oy]], rows[y1[oy]], out[c, oy]
            for ox in range(out_w):
                dest[ox] = top[ox] * wy0[oy] + bottom[ox] * wy1[oy]
    return out


@numba.njit(nogil=True, cache=True, inline='always', error_model='numpy')
def _step_channel(factor, step, c):
    """The factor plane of channel ``c`` at curve step ``step``: (C, ...) with C = 3 (shared by
    the steps) or 3 * num_iterations."""
    return factor[c] if factor.shape[0] == 3 else factor[3 * step + c]


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _curve_inplace(x, factor, num_iterations):
    """``x <- x + r * (x * x - x)`` for every step, flat (3, P) ``x``, (C, P) ``factor``.
    Steps outside, pixels inside: the inner loop vectorises for any number of steps."""
    for step in range(num_iterations):
        for c in range(3):
            r, plane = _step_channel(factor, step, c), x[c]
            for k in range(plane.shape[0]):
                v = plane[k]
                plane[k] = v + r[k] * (v * v - v)


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _mean(x):
    """Mean of all elements in float32, summed in float64 (PyTorch sums pairwise in float32;
    both are within an ulp or so of the exact sum)."""
    flat = x.ravel()
    total = 0.0
    for k in range(flat.shape[0]):
        total += flat[k]
    return _F32(_F32(total) / _F32(flat.shape[0]))


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _level_target(small, rank, cap, target_level, reference_mean, level_slope, stop, span,
                  rise_start, rise_span):
    """``CurveExposureControl.target`` of one (3, s, s) image under its cap terms ``cap`` (2,)
    (``level_caps``: the cap rises by ``cap[1]`` as the mean level goes from ``rise_start``
    over ``rise_span``), its mean level and its ``dark_weight``."""
    mean = _mean(small)
    brightest = np.empty(small.shape[1] * small.shape[2], np.float32)
    top = -np.inf
    for y in range(small.shape[1]):
        for x in range(small.shape[2]):
            value = max(small[0, y, x], small[1, y, x], small[2, y, x])
            brightest[y * small.shape[2] + x] = value
            top = max(top, value)
    highlight = _capped_nth_smallest(brightest, rank + 1, _F32(top))
    key = np.sqrt(max(mean * highlight, _F32(0)))
    dark_weight = min(max((stop - key) / span, _F32(0)), _F32(1))
    max_level = cap[0] + cap[1] * min(max((mean - rise_start) / rise_span, _F32(0)), _F32(1))
    dark_target = min(target_level * (max(mean, _F32(1e-4)) / reference_mean) ** level_slope,
                      max_level)
    return mean + max(dark_target - mean, _F32(0)) * dark_weight, mean, dark_weight


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _bisect_scale(small, factor, target, num_iterations, search_steps, max_scale):
    """The bisection of ``CurveExposureControl.solve_scale`` for flat (3, P) ``small`` and
    (C, P) ``factor``: the last ``low`` of the steps."""
    low, high = _F32(0), _F32(max_scale)
    r = np.empty_like(factor)
    for _ in range(search_steps):
        middle = (low + high) / _F32(2)
        for c in range(factor.shape[0]):
            for k in range(factor.shape[1]):
                r[c, k] = min(max(middle * factor[c, k], _F32(-1)), _F32(1))
        # A fresh copy, not x[:] = small: numba's slice assignment compiles its broadcasting
        # error message (string formatting, seconds of a cold cache).
        x = small.copy()
        _curve_inplace(x, r, num_iterations)
        if _mean(x) > target:
            high = middle
        else:
            low = middle
    return low


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _gained(target, mean, gain_share):
    """``CurveExposureControl.input_gain`` of one thumbnail with its target and mean level."""
    return _F32(max(target / max(mean, _F32(1e-4)), _F32(1)) ** gain_share)


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _clamp_inplace(x, low, high):
    """``x`` (float32, any shape) clamped to [low, high] in place (``np.minimum`` /
    ``np.maximum`` with a scalar come back float64 in numba)."""
    flat = x.reshape(-1)
    for k in range(flat.shape[0]):
        flat[k] = min(max(flat[k], low), high)
    return x


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _black_level(thumb, weight, rank):
    """``CurveExposureControl.black_point`` of one (3, s, s) search thumbnail with its light
    weight times its dark weight: the ``rank``-th smallest (0-based) of its darkest channel in
    [0, 0.5], times the weight; 0 where ``rank`` < 0 (no black point) or the weight is 0."""
    if rank < 0 or weight == 0:
        return _F32(0)
    darkest = np.empty(thumb.shape[1] * thumb.shape[2], np.float32)
    for y in range(thumb.shape[1]):
        for x in range(thumb.shape[2]):
            darkest[y * thumb.shape[2] + x] = min(thumb[0, y, x], thumb[1, y, x],
                                                  thumb[2, y, x])
    return _F32(weight * max(_capped_nth_smallest(darkest, rank + 1, _F32(0.5)), _F32(0)))


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _thumb_gain(thumb, rank, cap, target_args, gain_share, weight, black_rank):
    """(target, mean level, gain, black point) of one search thumbnail: ``target``,
    ``input_gain`` and ``black_point`` of ``CurveExposureControl``."""
    target, mean, dark_weight = _level_target(thumb, rank, cap, *target_args)
    black = _black_level(thumb, weight * dark_weight, black_rank)
    lifted = mean
    if black > 0:  # the mean level the gain lifts: that of the black-pointed thumbnail
        lifted = _mean(_clamp_inplace((thumb - black) / (_F32(1) - black), _F32(0),
                                      _F32(np.inf)))
    return target, mean, _gained(target, lifted, gain_share), black


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _exposure_scales(small, factor, ys, xs, num_iterations, search_steps, max_scale, rank,
                     caps, target_args, gain_share, weights, black_rank):
    """Per image ``alpha`` of ``CurveExposureControl.solve_scale`` (N,) float32."""
    alpha = np.zeros(small.shape[0], np.float32)
    for n in range(small.shape[0]):
        thumb = _resize(small[n], *ys, *xs)
        target, mean, gain, black = _thumb_gain(thumb, rank, caps[n], target_args, gain_share,
                                                weights[n], black_rank)
        if gain_share > 0:  # the curve starts from the gained (black-pointed) thumbnail
            scale = _F32(gain / (_F32(1) - black))
            thumb = _clamp_inplace((thumb - black) * scale, _F32(0), _F32(1))
            mean = _mean(thumb)
        if target > mean + _F32(1e-4):  # else exactly 0: the identity
            flat_factor = _resize(factor[n], *ys, *xs).reshape(factor.shape[1], -1)
            alpha[n] = _bisect_scale(thumb.reshape(3, -1), flat_factor, target,
                                     num_iterations, search_steps, max_scale)
    return alpha


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _exposure_gains(small, ys, xs, rank, caps, target_args, gain_share, weights, black_rank):
    """(gains, black points) (N,) float32 of ``CurveExposureControl``."""
    gains = np.ones(small.shape[0], np.float32)
    blacks = np.zeros(small.shape[0], np.float32)
    for n in range(small.shape[0]):
        thumb = _resize(small[n], *ys, *xs)
        _, _, gains[n], blacks[n] = _thumb_gain(thumb, rank, caps[n], target_args, gain_share,
                                                weights[n], black_rank)
    return gains, blacks


def _search_args(control, small: np.ndarray, light: Optional[np.ndarray]) -> tuple:
    """The thumbnail taps, the highlight rank, the targets' cap terms (N, 2), the target's other
    arguments, the gain share, the light weights (N,) and the black point's rank (-1: none)
    of the search."""
    size = control.search_size
    ys = tuple(linear_taps(small.shape[2], size, False))
    xs = tuple(linear_taps(small.shape[3], size, False))
    count = size * size
    rank = min(count - 1, int(control.highlight_quantile * (count - 1) + 0.5))
    start, stop = control.lit_keys
    rise = getattr(control, 'max_level_rise', None)
    # Without a rise the cap's second term (level_caps) is 0: any band will do.
    rise_start, rise_full = (0.0, 1.0) if rise is None else rise[:2]
    # float32, as PyTorch casts Python scalars for float32 tensors (stop - start is computed
    # in Python, before the cast).
    target_args = (_F32(control.target_level), _F32(control.reference_mean),
                   _F32(control.level_slope), _F32(stop), _F32(stop - start),
                   _F32(rise_start), _F32(rise_full - rise_start))
    quantile = getattr(control, 'light_black_quantile', None)
    black_rank = -1 if light is None or quantile is None else int(quantile * (count - 1) + 0.5)
    weights = np.zeros(small.shape[0], np.float32) if light is None else \
        np.ascontiguousarray(light, np.float32).reshape(small.shape[0])
    return (ys, xs, rank, level_caps(control, light, small.shape[0]), target_args,
            _F32(control.gain_share), weights, black_rank)


def exposure_scale(control, small: np.ndarray, factor: np.ndarray, num_iterations: int,
                   light: Optional[np.ndarray] = None) -> np.ndarray:
    """``CurveExposureControl.solve_scale`` (its ``alpha``) of thumbnails and factor maps.

    Args:
        control (CurveExposureControl): The model's exposure control.
        small (np.ndarray): The EFE's input (N, 3, h, w) float32, RGB in [0, 1].
        factor (np.ndarray): Its factor map (N, C, h, w) float32, C = 3 or 3 * num_iterations.
        num_iterations (int): The curve's steps.
        light (np.ndarray, optional): The frames' ``light_weight`` (N,)
            (:func:`~.light_sources.light_weights`).

    Returns:
        np.ndarray: (N,) float32 scales in [0, max_scale].
    """
    small = np.ascontiguousarray(small, np.float32)
    factor = np.ascontiguousarray(factor, np.float32)
    ys, xs, rank, caps, target_args, gain_share, weights, black_rank = _search_args(
        control, small, light)
    return _exposure_scales(small, factor, ys, xs, num_iterations, control.search_steps,
                            _F32(control.max_scale), rank, caps, target_args, gain_share,
                            weights, black_rank)


def exposure_gain(control, small: np.ndarray, light: Optional[np.ndarray] = None
                  ) -> Tuple[np.ndarray, np.ndarray]:
    """``CurveExposureControl.input_gain`` and ``black_point`` of thumbnails: the gain before
    the curve and the level it takes to black.

    Args:
        control (CurveExposureControl): The model's exposure control.
        small (np.ndarray): The EFE's input (N, 3, h, w) float32, RGB in [0, 1].
        light (np.ndarray, optional): The frames' ``light_weight`` (N,).

    Returns:
        tuple[np.ndarray, np.ndarray]: (N,) float32 gains >= 1 (ones at ``gain_share = 0``)
        and black points in [0, 0.5] (zeros without ``light`` or ``light_black_quantile``).
    """
    small = np.ascontiguousarray(small, np.float32)
    return _exposure_gains(small, *_search_args(control, small, light))


def _shaped_factor(control, factor: np.ndarray) -> np.ndarray:
    """``CurveExposureControl.shape_factor`` of an (N, C, h, w) float32 map, in NumPy.

    Not PyTorch's code: its operations at thumbnail size (1080p: 43,200 values) run on its
    OpenMP threads, which then spin for a while on the cores the kernels after it need (the
    1080p default path lost about 3 ms per frame to this and to the same in
    ``denoiser_affine_maps``)."""
    if control.share_channels:
        n, channels, height, width = factor.shape
        shared = factor.reshape(n, channels // 3, 3, height, width).mean(axis=2,
                                                                         dtype=np.float32)
        factor = np.repeat(shared, 3, axis=1)
    if control.spatial_variation != 1:
        mean = factor.mean(axis=(2, 3), keepdims=True, dtype=np.float32)
        factor = mean + _F32(control.spatial_variation) * (factor - mean)
    return np.ascontiguousarray(factor, np.float32)


def exposure_controlled_factor(control, small: np.ndarray, factor: np.ndarray,
                               num_iterations: int, light: Optional[np.ndarray] = None
                               ) -> np.ndarray:
    """``CurveExposureControl.forward``: ``clamp(alpha * shape_factor(factor), -1, 1)``.

    Args:
        control (CurveExposureControl): The model's exposure control.
        small (np.ndarray): The EFE's input (N, 3, h, w) float32, RGB in [0, 1].
        factor (np.ndarray): Its factor map (N, C, h, w) float32.
        num_iterations (int): The curve's steps.
        light (np.ndarray, optional): The frames' ``light_weight`` (N,).

    Returns:
        np.ndarray: The scaled factor map (N, C, h, w) float32.
    """
    factor = _shaped_factor(control, np.ascontiguousarray(factor, np.float32))
    alpha = exposure_scale(control, small, factor, num_iterations, light)
    return np.clip(alpha[:, None, None, None] * factor, _F32(-1), _F32(1))


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _curve_gain(x, factor, num_iterations):
    """``curve_gain`` of one (3, h, w) image under its (C, h, w) factor map."""
    shape = x.shape
    x = x.copy().reshape(3, -1)
    flat_factor = factor.reshape(factor.shape[0], -1)
    gain = np.ones_like(x)
    for step in range(num_iterations):
        for c in range(3):
            r, plane, slope = _step_channel(flat_factor, step, c), x[c], gain[c]
            for k in range(plane.shape[0]):
                v = plane[k]
                slope[k] = slope[k] * (_F32(1) + r[k] * (_F32(2) * v - _F32(1)))
                plane[k] = v + r[k] * (v * v - v)
    return gain.reshape(shape)


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _curve_lift(x, factor, num_iterations):
    """``curve_lift`` of one (3, h, w) image under its (C, h, w) factor map."""
    flat = x.reshape(3, -1)
    y = flat.copy()
    _curve_inplace(y, factor.reshape(factor.shape[0], -1), num_iterations)
    for c in range(3):
        for k in range(y.shape[1]):
            lift = _F32(1) - flat[c, k] / max(y[c, k], _F32(1e-6))
            y[c, k] = min(max(lift, _F32(0)), _F32(1))
    return y.reshape(x.shape)


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _window_counts(length, radius):
    """How many of the 2 radius + 1 taps centred on each index fall inside [0, length)."""
    counts = np.empty(length, np.float32)
    for i in range(length):
        counts[i] = min(i + radius, length - 1) - max(i - radius, 0) + 1
    return counts


@numba.njit(nogil=True, cache=True, inline='always', error_model='numpy')
def _add(dest, src):
    for k in range(dest.shape[0]):
        dest[k] += src[k]


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _box_inplace(x, radius, scratch, first_row, total_height):
    """``_box`` of the guided filter, in place: each plane of x (C, h, w) replaced by its means
    over (2 radius + 1)^2 windows, border windows over what they hold; sums along W (into
    ``scratch`` (h, w)), then along H, each in tap order, as PyTorch's two convolutions.

    ``x`` holds rows ``[first_row, first_row + h)`` of an image ``total_height`` rows high (a
    band: the windows' pixel counts are the whole image's); rows within ``radius`` of the
    band's ends that are not the image's come out wrong, and callers discard them.

    In place because fresh full-size arrays cost more than the arithmetic: at 1080p, scale 4,
    the page faults of the kernel's temporaries took 3/4 of its time (12 against 3.5 ms). Row by
    row, every tap of a row while it is in the L1 cache (a pass over the plane per tap took 3x
    longer). Slices, so that every index runs from 0 and the inner loops vectorise."""
    if radius == 0:
        return
    height, width = x.shape[1], x.shape[2]
    count_h = _window_counts(total_height, radius)[first_row:first_row + height]
    count_w = _window_counts(width, radius)
    # Pixels per window, for each row's count (a few distinct values), as PyTorch's product.
    pixels = np.empty((2 * radius + 2, width), np.float32)
    for count in range(1, 2 * radius + 2):
        for k in range(width):
            pixels[count, k] = _F32(count) * count_w[k]
    for c in range(x.shape[0]):
        plane = x[c]
        for y in range(height):
            source, dest = plane[y], scratch[y]
            dest[:] = 0
            for shift in range(-radius, radius + 1):
                lo, hi = max(0, -shift), min(width, width - shift)
                _add(dest[lo:hi], source[lo + shift:hi + shift])
        for y in range(height):
            row, window = plane[y], pixels[int(count_h[y])]
            row[:] = 0
            for shift in range(max(-radius, -y), min(radius, height - 1 - y) + 1):
                _add(row, scratch[y + shift])
            for k in range(width):
                row[k] = row[k] / window[k]


#: The black level's selection narrows its interval to at most this many values.
_FEW = 64


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _count_at_most(values, bound):
    # A branch-free count: vectorises (a histogram's scatter would not).
    count = 0
    for k in range(values.shape[0]):
        count += values[k] <= bound
    return count


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _count_below(values, bound):
    count = 0
    for k in range(values.shape[0]):
        count += values[k] < bound
    return count


#: Bisection steps after which :func:`_bisected_nth_smallest` checks for ties at its upper end.
_TIE_CHECK_STEPS = 32


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _sorted_in_place(values):
    """Insertion sort of a few values (at most ``_FEW``). Not ``np.sort``/``np.partition``:
    numba compiles those for ~10 s each, which a cold cache would pay on the first frame."""
    for i in range(1, values.shape[0]):
        value = values[i]
        j = i - 1
        while j >= 0 and values[j] > value:
            values[j + 1] = values[j]
            j -= 1
        values[j + 1] = value
    return values


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _bisected_nth_smallest(values, rank, cap):
    """:func:`_capped_nth_smallest` by bisection on the value (each step one vectorised
    count) down to an interval ``(low, high]`` that holds it and at most ``_FEW`` values (or no
    float between ``low`` and ``high``), then a selection among those: ~10x faster than
    ``np.partition`` of all values.
    """
    high = cap
    count_high = _count_at_most(values, high)
    if count_high < rank:
        return cap
    low, count_low = -np.inf, 0
    steps = 0
    while count_high - count_low > _FEW:
        steps += 1
        # Many values equal to the answer (a dark frame's cells at exactly 0) keep more than
        # _FEW values in (low, high] until the two are adjacent floats, ~150 halvings down to
        # 0, each a pass over all values (4 ms per 1080p channel): if fewer than ``rank``
        # values lie below ``high``, the answer is ``high`` itself. Normal data never gets here
        # (about 16 steps).
        if steps % _TIE_CHECK_STEPS == 0 and _count_below(values, high) < rank:
            return high
        # The first probe, below 0 (as is every value for a cap < 1), bounds the interval.
        middle = low / _F32(2) + high / _F32(2) if low > -np.inf else min(_F32(0), high - 1)
        if not low < middle < high:
            return high  # all values in (low, high] equal high
        count = _count_at_most(values, middle)
        if count >= rank:
            high, count_high = middle, count
        else:
            low, count_low = middle, count
    members = np.empty(count_high - count_low, np.float32)
    m = 0
    for k in range(values.shape[0]):
        if low < values[k] <= high:
            members[m] = values[k]
            m += 1
    return _sorted_in_place(members)[rank - count_low - 1]


#: Values per block of :func:`_capped_nth_smallest`'s first bound.
_MINIMUM_BLOCK = 64


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _capped_nth_smallest(values, rank, cap):
    """min(the ``rank``-th smallest of ``values`` (1-based), ``cap``), exactly.

    For a low rank among many values (the black level: the 130th of 129,600 at 1080p) the
    answer is first bounded from above by the ``rank``-th smallest of the minima of blocks of
    ``_MINIMUM_BLOCK`` values (``rank`` blocks hold a value at most that large), and only the
    values up to that bound are searched: one pass over all values instead of one per bisection
    step (0.21 -> 0.09 ms per 1080p channel at scale 4).
    """
    blocks = values.shape[0] // _MINIMUM_BLOCK
    if rank > blocks or blocks < 2 * _FEW:
        return _bisected_nth_smallest(values, rank, cap)
    minima = np.empty(blocks, np.float32)
    for b in range(blocks):
        block = values[b * _MINIMUM_BLOCK:(b + 1) * _MINIMUM_BLOCK]
        least = block[0]
        for k in range(1, _MINIMUM_BLOCK):
            least = min(least, block[k])
        minima[b] = least
    bound = _bisected_nth_smallest(minima, rank, cap)
    if not bound < cap:  # the answer may be the cap itself: search everything
        return _bisected_nth_smallest(values, rank, cap)
    # At least ``rank`` values are <= bound; with fewer below it, the answer is the bound (ties:
    # the zeros of a dark frame's black background).
    if _count_below(values, bound) < rank:
        return bound
    members = np.empty(_count_at_most(values, bound), np.float32)
    m = 0
    for k in range(values.shape[0]):
        if values[k] <= bound:
            members[m] = values[k]
            m += 1
    return _bisected_nth_smallest(members, rank, bound)


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _black_offset(thumb, factor, black, black_knee, num_iterations):
    """``thumb_offset`` of ``coefficients``: the black level's share that the curve lifts."""
    grey = black.min()
    lift = _curve_lift(thumb, factor, num_iterations)
    offset = np.empty_like(thumb)
    for c in range(3):
        knee = max(black_knee * black[c], _F32(1e-6))
        for y in range(thumb.shape[1]):
            for x in range(thumb.shape[2]):
                shadow = max(_F32(1) - thumb[c, y, x] / knee, _F32(0))
                offset[c, y, x] = (black[c] - grey + grey * shadow) * lift[c, y, x]
    return offset


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _thumbnail_maps(x_low, factor, black, down, num_iterations, params):
    """The whole-image part of ``coefficients`` for one image, at the factor's resolution:
    (3, h', w') black-level offset and curve gain, from (3, h, w) pooled, (C, h', w') factor
    and (3,) black level; ``down``: the tables to the factor's size."""
    black_rank, black_knee = params[2], params[4]
    thumb = _resize(x_low, *down)
    if black_rank == 0:
        return np.zeros_like(thumb), _curve_gain(thumb, factor, num_iterations)
    thumb_offset = _black_offset(thumb, factor, black, black_knee, num_iterations)
    for ch in range(3):
        for y in range(thumb.shape[1]):
            for x in range(thumb.shape[2]):
                shifted = ((thumb[ch, y, x] - thumb_offset[ch, y, x])
                           / (_F32(1) - thumb_offset[ch, y, x]))
                thumb[ch, y, x] = max(shifted, _F32(0))
    return thumb_offset, _curve_gain(thumb, factor, num_iterations)


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _band_coefficients(x_low, thumb_offset, thumb_gain, sigma, up, radius, params, row_start,
                       row_stop, fold, a, b, c):
    """``coefficients`` of one image, rows ``[row_start, row_stop)``: (3, h, w) pooled, the
    ``_thumbnail_maps``, (3,) sigma; ``up``: the tables from the factor's size to (h, w).
    Writes those rows of ``a``, ``b``, ``c`` (3, h, w), with the image's
    :func:`gain_fold_constants` ``fold`` (scale, norm, shift) applied as they are stored. The
    two box means of a row need the pixels within 2 ``radius`` rows of it: the band computes
    its statistics that far beyond its ends."""
    strength2, tolerance, tiny, detail_window = params[0], params[1], params[5], params[6]
    channels, height, width = x_low.shape
    first, last = max(0, row_start - 2 * radius), min(height, row_stop + 2 * radius)
    rows = last - first
    y0, y1, wy0, wy1, x0, x1, wx0, wx1 = up
    offset = _resize(thumb_offset, y0[row_start:row_stop], y1[row_start:row_stop],
                     wy0[row_start:row_stop], wy1[row_start:row_stop], x0, x1, wx0, wx1)
    gain = _resize(thumb_gain, y0[first:last], y1[first:last], wy0[first:last], wy1[first:last],
                   x0, x1, wx0, wx1)
    detail = detail_window > 1
    # One buffer for the box moments and then, pixel by pixel in place, the second box's
    # inputs (weight, (1 - weight) * mean, kept^2): see _box_inplace on fresh arrays.
    work = np.empty((9 if detail else 6, rows, width), np.float32)
    for ch in range(3):
        for y in range(rows):
            for x in range(width):
                value = x_low[ch, first + y, x]
                work[ch, y, x] = value
                work[3 + ch, y, x] = value * value
    scratch = np.empty((rows, width), np.float32)
    _box_inplace(work[:6], radius, scratch, first, height)
    for ch in range(3):
        smoothed_sigma = sigma[ch] / _F32(detail_window)
        noise = smoothed_sigma * smoothed_sigma
        for y in range(rows):
            for x in range(width):
                slope = max(gain[ch, y, x], _F32(1e-3))
                lifted = tolerance / slope
                eps = strength2 * max(noise - lifted * lifted, _F32(0))
                mean = work[ch, y, x]
                var = max(work[3 + ch, y, x] - mean * mean, _F32(0))
                weight = (var + tiny) / (var + eps + tiny)
                work[ch, y, x] = weight
                work[3 + ch, y, x] = (_F32(1) - weight) * mean
                if detail:
                    kept = min(tolerance / max(slope * sigma[ch], tiny), _F32(1))
                    work[6 + ch, y, x] = kept * kept
    _box_inplace(work, radius, scratch, first, height)
    scale, norm, shift = fold[0], fold[1], fold[2]
    for ch in range(3):
        for y in range(row_start, row_stop):
            for x in range(width):
                inverse = _F32(1) / (_F32(1) - offset[ch, y - row_start, x])
                kept = work[6 + ch, y - first, x] if detail else _F32(0)
                a[ch, y, x] = (work[ch, y - first, x] - kept) * inverse * scale
                b[ch, y, x] = ((work[3 + ch, y - first, x] - offset[ch, y - row_start, x])
                               * inverse * norm - shift)
                c[ch, y, x] = kept * inverse * scale


#: Pooled rows per band of the coefficients (1080p at scale 4: 270 rows, 4 bands).
_COEFFICIENT_ROWS = 64
#: The name of the coefficients' worker pool.
_POOL = 'mmlowlight-coefficients'


def _aligned_taps(in_h: int, in_w: int, out_h: int, out_w: int) -> Tuple[tuple, tuple]:
    """The H and W tables of ``_resize`` in the guided filter (aligned corners), as one tuple
    of the 8 arrays ``_resize`` takes after its source."""
    return tuple(linear_taps(in_h, out_h, True)) + tuple(linear_taps(in_w, out_w, True))


def gain_fold_constants(gain: np.ndarray, black: Optional[np.ndarray] = None
                        ) -> np.ndarray:
    """How affine maps of a gained frame become maps of the frame itself.

    Maps ``(a, b, c)`` computed for the frame times the exposure control's gain ``g``, followed
    by its black point ``k`` (``SGZEnhancer.curve_input``: ``(a (g x_mid) + c (g x) + b - g k)
    / (1 - k)``), equal maps ``(scale a, norm b - shift, scale c)`` applied to ``x``, with
    ``scale = g / (1 - k)``, ``norm = 1 / (1 - k)``, ``shift = g k / (1 - k)``.

    Args:
        gain (np.ndarray): (N,) gains ``g``.
        black (np.ndarray, optional): (N,) black points ``k`` in [0, 1); None: 0.

    Returns:
        np.ndarray: (N, 3) float32 rows ``(scale, norm, shift)``.
    """
    g = np.asarray(gain, np.float32).reshape(-1)
    k = np.zeros_like(g) if black is None else np.asarray(black, np.float32).reshape(-1)
    norm = _F32(1) / (_F32(1) - k)
    return np.stack([g * norm, norm, g * k * norm], axis=1).astype(np.float32)


def guided_filter_coefficients(denoiser, x_low: np.ndarray, factor: np.ndarray,
                               sigma: np.ndarray, num_iterations: int, threads: int = 1,
                               fold: Optional[np.ndarray] = None
                               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``NoiseAdaptiveGuidedFilter.coefficients`` of a pooled image.

    Args:
        denoiser (NoiseAdaptiveGuidedFilter): The model's denoiser.
        x_low (np.ndarray): Its ``pool`` of the image (N, 3, h, w) float32.
        factor (np.ndarray): The factor map (N, C, h', w') float32, any resolution.
        sigma (np.ndarray): Its ``estimate_noise`` (N, 3) (or (N, 3, 1, 1)) float32.
        num_iterations (int): The curve's steps.
        threads (int): Worker threads (bands of rows). Defaults to 1.
        fold (np.ndarray, optional): (N, 3) :func:`gain_fold_constants` applied to the maps
            as they are written (free there; a pass of its own over three maps at 1080p took
            0.25-0.4 ms). None: the maps as they are.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``a``, ``b``, ``c`` (N, 3, h, w) float32
        (``c`` is 0 at ``detail_radius = 0``), each a view of a channels-last (N, h, w, 3)
        array.
    """
    x_low = np.ascontiguousarray(x_low, np.float32)
    factor = np.ascontiguousarray(factor, np.float32)
    sigma = np.ascontiguousarray(np.asarray(sigma, np.float32).reshape(-1, 3))
    height, width = x_low.shape[-2:]
    down = _aligned_taps(height, width, *factor.shape[-2:])
    up = _aligned_taps(*factor.shape[-2:], height, width)
    # 0: no black level (black_percentile = 0).
    black_rank = denoiser.black_rank(height * width) if denoiser.black_percentile > 0 else 0
    params = (_F32(denoiser.strength ** 2), _F32(denoiser.tolerance), black_rank,
              _F32(denoiser.max_black), _F32(denoiser.black_knee), _F32(_TINY),
              2 * denoiser.detail_radius + 1)
    # Channels-last buffers seen as (N, 3, h, w): the fused curve pass reads the maps as
    # channels-last rows, which these give it without a transposed copy (0.6 ms per map at
    # 1080p with the coefficients at 1/4 resolution).
    n = x_low.shape[0]
    a, b, c = (np.empty((n, height, width, 3), np.float32).transpose(0, 3, 1, 2)
               for _ in range(3))
    # The black level of each channel, then bands of rows, on worker threads (the kernels
    # release the GIL): at 1080p 3.4 ms on one thread. The whole-image part between them is
    # tiny (at the factor's resolution).
    black = np.zeros((n, 3), np.float32)
    if black_rank:
        black[:] = np.reshape(run_jobs(_capped_nth_smallest,
                                       [(plane.ravel(), black_rank, params[3])
                                        for plane in x_low.reshape(n * 3, height, width)],
                                       threads, _POOL), (n, 3))
    bands = max(1, min(threads * 2, -(-height // _COEFFICIENT_ROWS))) if threads > 1 else 1
    bounds = np.linspace(0, height, bands + 1).astype(int)
    if fold is None:
        fold = gain_fold_constants(np.ones(n, np.float32))
    fold = np.ascontiguousarray(fold, np.float32).reshape(n, 3)
    jobs = []
    for i in range(n):
        thumb_offset, thumb_gain = _thumbnail_maps(x_low[i], factor[i], black[i], down,
                                                   num_iterations, params)
        jobs += [(x_low[i], thumb_offset, thumb_gain, sigma[i], up, denoiser.radius, params,
                  int(start), int(stop), fold[i], a[i], b[i], c[i])
                 for start, stop in zip(bounds[:-1], bounds[1:])]
    run_jobs(_band_coefficients, jobs, threads, _POOL)
    return a, b, c
