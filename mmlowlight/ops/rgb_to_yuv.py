"""RGB24 -> planar YUV 4:2:0 (8 bit) in one pass, written straight into an FFmpeg frame's planes.

What an enhanced video frame needs before H.264 encoding. FFmpeg's swscale does it too, but its
packed-RGB input path is not vectorised: 7-10 ms of CPU per 1080p frame on the 2-core test
machine, plus a copy of the array into a frame, against about 2 ms here. The matrix is the one
swscale uses for the colour space and range tags in the other direction (so that
decode -> RGB -> encode keeps the colours): Y' = Kr R + (1 - Kr - Kb) G + Kb B, Cb and Cr
scaled to their ranges; limited range puts Y' in [16, 235] and chroma in [16, 240]. Each chroma
sample is the mean of the 2 x 2 block of pixels it covers (odd sizes: the last row / column
stands alone).
"""
from typing import Sequence, Tuple

import numba
import numpy as np

from .temporal_denoise import flat_plane

__all__ = ['rgb_to_yuv420', 'LUMA_WEIGHTS', 'luma_weights']

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
