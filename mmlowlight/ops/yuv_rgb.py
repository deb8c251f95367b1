"""8-bit planar YUV 4:2:0 <-> RGB24, exact inverses of each other, on an FFmpeg frame's planes.

The conversions around the enhancer in a video. FFmpeg's swscale does them too, but

- its YUV -> RGB darkens by 0.5 (default flags) to 1.7 (``ACCURATE_RND``) grey levels on
  average (measured on a grey ramp): through decode -> enhance -> encode -> a player that is a
  visible, systematic loss of brightness;
- its packed-RGB input path is not vectorised: 7-10 ms of CPU per 1080p frame on the 2-core test
  machine, plus a copy of the array into a frame, against about 1.5 ms here.

The matrix: Y' = Kr R + (1 - Kr - Kb) G + Kb B, Cb = (B - Y') / (2 (1 - Kb)),
Cr = (R - Y') / (2 (1 - Kr)), with (Kr, Kb) of the frame's colour space tag and the range tag's
scaling (limited: Y' in [16, 235], chroma in [16, 240]); every result is rounded to nearest. To
4:2:0, each chroma sample is the mean of the 2 x 2 pixels it covers; back, chroma is upsampled
bilinearly with the samples at the centres of their blocks (weights 3/4, 1/4 per axis; edges
replicated).
"""
from typing import Sequence, Tuple

import numba
import numpy as np

from .temporal_denoise import flat_plane

__all__ = ['rgb_to_yuv420', 'yuv420_to_rgb', 'LUMA_WEIGHTS', 'luma_weights']

#: (Kr, Kb) per FFmpeg AVColorSpace value; anything else (unspecified, reserved) is BT.601,
#: as swscale assumes.
LUMA_WEIGHTS = {
    1: (0.2126, 0.0722),  # BT.709
    4: (0.30, 0.11),  # FCC
    5: (0.299, 0.114),  # BT.470BG (601 625-line)
    6: (0.299, 0.114),  # SMPTE 170M (601 525-line)
    7: (0.212, 0.087),  # SMPTE 240M
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
}


def luma_weights(colorspace: int) -> Tuple[float, float]:
    """(Kr, Kb) of an AVColorSpace value (BT.601 for unknown ones)."""
    return LUMA_WEIGHTS.get(int(colorspace), (0.299, 0.114))


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _convert(rgb, y, y_stride, u, u_stride, v, v_stride, coefficients):
    """``rgb`` is (H, W * 3): flat rows, so that the loads vectorise (2-D (W, 3) indexing is
    about 6x slower)."""
    height, width = rgb.shape[0], rgb.shape[1] // 3
    yr, yg, yb = coefficients[0], coefficients[1], coefficients[2]
    y_offset = coefficients[3] + np.float32(0.5)  # + 0.5: rounding
    ur, ug, ub = coefficients[4], coefficients[5], coefficients[6]
    vr, vg, vb = coefficients[7], coefficients[8], coefficients[9]
    c_offset = coefficients[10] + np.float32(0.5)
    top = np.float32(255)
    for i in range(height):
        source = rgb[i]
        # A row slice, not flat indexing: only then does the store loop vectorise (3x).
        target = y[i * y_stride:i * y_stride + width]
        # Luma needs no clamp: the weights are positive and sum to the range's scale.
        for j in range(width):
            target[j] = np.uint8(yr * np.float32(source[3 * j]) + yg * np.float32(
                source[3 * j + 1]) + yb * np.float32(source[3 * j + 2]) + y_offset)
    pairs = width // 2
    for ci in range((height + 1) // 2):
        first, second = rgb[2 * ci], rgb[min(2 * ci + 1, height - 1)]
        u_row = u[ci * u_stride:ci * u_stride + (width + 1) // 2]
        v_row = v[ci * v_stride:ci * v_stride + (width + 1) // 2]
        for cj in range(pairs):
            k = 6 * cj
            r = (np.float32(first[k]) + np.float32(first[k + 3]) + np.float32(second[k])
                 + np.float32(second[k + 3]))
            g = (np.float32(first[k + 1]) + np.float32(first[k + 4])
                 + np.float32(second[k + 1]) + np.float32(second[k + 4]))
            b = (np.float32(first[k + 2]) + np.float32(first[k + 5])
                 + np.float32(second[k + 2]) + np.float32(second[k + 5]))
            u_row[cj] = np.uint8(min(max(ur * r + ug * g + ub * b + c_offset,
                                         np.float32(0)), top))
            v_row[cj] = np.uint8(min(max(vr * r + vg * g + vb * b + c_offset,
                                         np.float32(0)), top))
        if width % 2:  # the last column alone: counted twice
            k = 3 * (width - 1)
            r = 2 * (np.float32(first[k]) + np.float32(second[k]))
            g = 2 * (np.float32(first[k + 1]) + np.float32(second[k + 1]))
            b = 2 * (np.float32(first[k + 2]) + np.float32(second[k + 2]))
            u_row[pairs] = np.uint8(min(max(ur * r + ug * g + ub * b + c_offset,
                                            np.float32(0)), top))
            v_row[pairs] = np.uint8(min(max(vr * r + vg * g + vb * b + c_offset,
                                            np.float32(0)), top))


def _coefficients(colorspace: int, full_range: bool) -> np.ndarray:
    kr, kb = luma_weights(colorspace)
    kg = 1 - kr - kb
    y_scale, y_offset = (1.0, 0.0) if full_range else (219 / 255, 16.0)
    c_scale = 1.0 if full_range else 224 / 255
    # Chroma sums four pixels: a quarter of the weights gives their mean.
    cb = np.array([-kr, -kg, 1 - kb]) / (2 * (1 - kb)) * c_scale / 4
    cr = np.array([1 - kr, -kg, -kb]) / (2 * (1 - kr)) * c_scale / 4
    return np.array([kr * y_scale, kg * y_scale, kb * y_scale, y_offset, *cb, *cr, 128.0],
                    np.float32)


def rgb_to_yuv420(rgb: np.ndarray, planes: Sequence[np.ndarray], colorspace: int = 2,
                  full_range: bool = False) -> None:
    """Convert an H x W x 3 uint8 RGB image into Y (H, W), U and V (ceil(H/2), ceil(W/2)).

    Args:
        rgb (np.ndarray): H x W x 3 uint8, C-contiguous.
        planes (Sequence[np.ndarray]): The three uint8 output planes, rows contiguous (e.g.
            ``np.frombuffer`` views of a ``yuv420p`` frame's planes, padding included).
        colorspace (int): FFmpeg AVColorSpace value of the output (1 = BT.709, 2 =
            unspecified, treated as BT.601, ...). Defaults to 2.
        full_range (bool): Full (JPEG) range instead of limited (MPEG). Defaults to False.

    Raises:
        ValueError: Wrong dtype or shapes.
    """
    height, width = rgb.shape[:2]
    chroma = ((height + 1) // 2, (width + 1) // 2)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected H x W x 3 uint8 RGB, got {rgb.dtype} {rgb.shape}')
    if [p.shape for p in planes] != [(height, width), chroma, chroma]:
        raise ValueError(f'planes of shapes {[p.shape for p in planes]} do not fit a '
                         f'{width}x{height} image in 4:2:0')
    flat = [flat_plane(p) for p in planes]
    _convert(np.ascontiguousarray(rgb).reshape(height, width * 3), *flat[0], *flat[1], *flat[2],
             _coefficients(colorspace, full_range))


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _chroma_row(plane, stride, row, height, width, vertical, out):
    """Chroma for luma row ``row``, upsampled to ``width`` (float32, minus 128): a vertical
    3:1 blend of the two nearest chroma rows, then a horizontal one, each loop branch-free."""
    chroma_rows, chroma_width = (height + 1) // 2, (width + 1) // 2
    nearest = row // 2
    other = min(max(nearest - 1 if row % 2 == 0 else nearest + 1, 0), chroma_rows - 1)
    a = plane[nearest * stride:nearest * stride + chroma_width]
    b = plane[other * stride:other * stride + chroma_width]
    three, quarter = np.float32(0.75), np.float32(0.25)
    for c in range(chroma_width):
        vertical[c] = three * np.float32(a[c]) + quarter * np.float32(b[c]) - np.float32(128)
    pairs = width // 2
    # Output pixel 2c sits a quarter sample left of chroma sample c, 2c + 1 a quarter right.
    for c in range(1, pairs):
        out[2 * c] = three * vertical[c] + quarter * vertical[c - 1]
    for c in range(pairs - 1):
        out[2 * c + 1] = three * vertical[c] + quarter * vertical[c + 1]
    out[0] = vertical[0]
    if pairs >= 1:
        out[2 * pairs - 1] = three * vertical[pairs - 1] + quarter * vertical[
            min(pairs, chroma_width - 1)]
    if width % 2:
        out[width - 1] = vertical[chroma_width - 1] if width == 1 else (
            three * vertical[chroma_width - 1] + quarter * vertical[chroma_width - 2])


@numba.njit(nogil=True, cache=True, fastmath=True, error_model='numpy')
def _to_rgb(y, y_stride, u, u_stride, v, v_stride, rgb, coefficients):
    height, width = rgb.shape[0], rgb.shape[1] // 3
    y_scale, y_offset = coefficients[0], coefficients[1]
    rv, gu, gv, bu = coefficients[2], coefficients[3], coefficients[4], coefficients[5]
    cb, cr = np.empty(width, np.float32), np.empty(width, np.float32)
    vertical = np.empty((width + 1) // 2, np.float32)
    half, top = np.float32(0.5), np.float32(255)
    zero = np.float32(0)
    for i in range(height):
        _chroma_row(u, u_stride, i, height, width, vertical, cb)
        _chroma_row(v, v_stride, i, height, width, vertical, cr)
        luma = y[i * y_stride:i * y_stride + width]
        target = rgb[i]
        for j in range(width):
            level = (np.float32(luma[j]) - y_offset) * y_scale + half
            target[3 * j] = np.uint8(min(max(level + rv * cr[j], zero), top))
            target[3 * j + 1] = np.uint8(min(max(level + gu * cb[j] + gv * cr[j], zero), top))
            target[3 * j + 2] = np.uint8(min(max(level + bu * cb[j], zero), top))


def _inverse_coefficients(colorspace: int, full_range: bool) -> np.ndarray:
    kr, kb = luma_weights(colorspace)
    kg = 1 - kr - kb
    y_scale, y_offset = (1.0, 0.0) if full_range else (255 / 219, 16.0)
    c_scale = 1.0 if full_range else 255 / 224
    rv = 2 * (1 - kr) * c_scale
    bu = 2 * (1 - kb) * c_scale
    gu, gv = -kb * bu / kg, -kr * rv / kg
    return np.array([y_scale, y_offset, rv, gu, gv, bu], np.float32)


def yuv420_to_rgb(planes: Sequence[np.ndarray], rgb: np.ndarray = None, colorspace: int = 2,
                  full_range: bool = False) -> np.ndarray:
    """Convert Y (H, W), U and V (ceil(H/2), ceil(W/2)) uint8 planes into H x W x 3 RGB.

    Args:
        planes (Sequence[np.ndarray]): The three planes, rows contiguous (e.g. ``np.frombuffer``
            views of a ``yuv420p`` frame's planes).
        rgb (np.ndarray, optional): H x W x 3 uint8 C-contiguous output. Default: a new array.
        colorspace (int): FFmpeg AVColorSpace value (see :func:`rgb_to_yuv420`).
        full_range (bool): Full (JPEG) range instead of limited (MPEG).

    Returns:
        np.ndarray: ``rgb``.

    Raises:
        ValueError: Wrong dtypes or shapes.
    """
    height, width = planes[0].shape
    chroma = ((height + 1) // 2, (width + 1) // 2)
    if any(p.dtype != np.uint8 for p in planes) or [p.shape for p in planes[1:]] != [chroma] * 2:
        raise ValueError(f'planes of {[(p.dtype, p.shape) for p in planes]} are not 8-bit '
                         '4:2:0')
    if rgb is None:
        rgb = np.empty((height, width, 3), np.uint8)
    elif rgb.shape != (height, width, 3) or rgb.dtype != np.uint8 or \
            not rgb.flags.c_contiguous:
        raise ValueError(f'rgb must be a C-contiguous {height} x {width} x 3 uint8 array, got '
                         f'{rgb.dtype} {rgb.shape}')
    flat = [flat_plane(p) for p in planes]
    _to_rgb(*flat[0], *flat[1], *flat[2], rgb.reshape(height, width * 3),
            _inverse_coefficients(colorspace, full_range))
    return rgb
