"""The EFE's thumbnail, straight from the integer frame.

``SGZEnhancer.downscale`` resizes the float image bilinearly (``align_corners=False``, no
antialiasing): every thumbnail pixel is a weighted sum of 2 x 2 input pixels (at a size that is a
multiple of the scale, the mean of the 2 x 2 pixels around each 12 x 12 cell's centre). This
kernel reads only those pixels of the uint8/uint16 frame, converts them exactly as
``to_model_input`` does (``float32(v) / 255``, or ``/ 65535``) and sums them with PyTorch's
weights, so the full frame is never converted to float.
"""
import numba
import numpy as np

from .sampling import downscaled_size, linear_taps

__all__ = ['downscale_frames']


@numba.njit(nogil=True, cache=True)
def _downscale_kernel(src, out, y0, y1, wy0, wy1, x0, x1, wx0, wx1, max_value, swap):
    """src (N, H, W, 3) integers -> out (N, 3, h, w) float32; ``swap`` reverses the channels."""
    for n in range(out.shape[0]):
        for oy in range(out.shape[2]):
            row0 = src[n, y0[oy]]
            row1 = src[n, y1[oy]]
            for ox in range(out.shape[3]):
                w00 = wy0[oy] * wx0[ox]
                w01 = wy0[oy] * wx1[ox]
                w10 = wy1[oy] * wx0[ox]
                w11 = wy1[oy] * wx1[ox]
                for c in range(3):
                    p00 = np.float32(row0[x0[ox], c]) / max_value
                    p01 = np.float32(row0[x1[ox], c]) / max_value
                    p10 = np.float32(row1[x0[ox], c]) / max_value
                    p11 = np.float32(row1[x1[ox], c]) / max_value
                    out[n, 2 - c if swap else c, oy, ox] = (
                        w00 * p00 + w01 * p01 + w10 * p10 + w11 * p11)


def downscale_frames(frames: np.ndarray, scale_factor: float, bgr: bool = False) -> np.ndarray:
    """The EFE input of ``SGZEnhancer.downscale`` computed from integer frames.

    Args:
        frames (np.ndarray): N x H x W x 3 uint8 or uint16, RGB (or BGR with ``bgr=True``).
        scale_factor (float): The model's ``scale_factor`` (>= 1).
        bgr (bool): Whether ``frames`` are in BGR order. The thumbnail is always RGB.

    Returns:
        np.ndarray: (N, 3, h, w) float32 RGB in [0, 1], h and w as ``SGZEnhancer.downscale``.
    """
    n, height, width, _ = frames.shape
    small_h, small_w, inverse = downscaled_size(height, width, scale_factor)
    ys = linear_taps(height, small_h, False, inverse)
    xs = linear_taps(width, small_w, False, inverse)
    out = np.empty((n, 3, small_h, small_w), np.float32)
    _downscale_kernel(frames, out, *ys, *xs, np.float32(np.iinfo(frames.dtype).max), bool(bgr))
    return out
