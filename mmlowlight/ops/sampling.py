"""Sample positions and weights of PyTorch's bilinear resizing, as tables for the CPU kernels.

``F.interpolate(..., mode='bilinear')`` computes every output index ``i`` from two input indices
``i0 <= i1`` and weights ``l0 + l1 = 1`` that depend only on the sizes (separable in H and W).
These tables reproduce PyTorch's CPU arithmetic (``area_pixel_compute_scale``,
``area_pixel_compute_source_index``, ``guard_index_and_lambda`` in ``UpSample.h``), in float32 as
PyTorch computes them for float32 tensors, so that the kernels sample the same pixels with the
same weights.
"""
import functools
from typing import NamedTuple, Optional

import numpy as np

__all__ = ['LinearTaps', 'linear_taps', 'downscaled_size']


class LinearTaps(NamedTuple):
    """For each output index: input indices ``index0``/``index1`` (int64) and their weights
    ``weight0``/``weight1`` (float32, summing to 1)."""

    index0: np.ndarray
    index1: np.ndarray
    weight0: np.ndarray
    weight1: np.ndarray


# Bounded: at 4K a table is ~90 KB, and a folder of photos of many sizes must not pile them up.
@functools.lru_cache(maxsize=64)
def linear_taps(in_size: int, out_size: int, align_corners: bool,
                scale_factor: Optional[float] = None) -> LinearTaps:
    """The sampling table of one axis of a bilinear resize from ``in_size`` to ``out_size``.

    Cached (a video's frames all need the same few tables; building them cost ~30 us each,
    about 0.4 ms per 1080p frame): the arrays are shared, and callers only read them.

    Args:
        in_size (int): Input length (>= 1).
        out_size (int): Output length (>= 1).
        align_corners (bool): As in ``F.interpolate``.
        scale_factor (float, optional): The ``scale_factor`` given to ``F.interpolate`` (not
            recomputed), which then sets the sampling step ``1 / scale_factor`` instead of
            ``in_size / out_size``. Ignored with ``align_corners=True``.

    Returns:
        LinearTaps: Four arrays of length ``out_size``.
    """
    if in_size < 1 or out_size < 1:
        raise ValueError(f'sizes must be >= 1, got in_size={in_size}, out_size={out_size}')
    positions = np.arange(out_size, dtype=np.float64)
    if in_size == out_size:  # PyTorch copies rather than interpolates
        index = np.arange(out_size, dtype=np.int64)
        return LinearTaps(index, index, np.ones(out_size, np.float32),
                          np.zeros(out_size, np.float32))
    # The step is float32; PyTorch multiplies it by the (integer) output index in double
    # precision and rounds the position to float32 (measured: float32 products differ by up
    # to 3e-5 pixel at a few hundred pixels).
    if align_corners:
        step = np.float32(in_size - 1) / np.float32(out_size - 1) if out_size > 1 \
            else np.float32(0)
        source = (np.float64(step) * positions).astype(np.float32)
    else:
        step = np.float32(1.0 / scale_factor) if scale_factor else \
            np.float32(in_size) / np.float32(out_size)
        source = np.maximum(np.float64(step) * (positions + 0.5) - 0.5, 0).astype(np.float32)
    index0 = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    weight1 = np.clip(source - index0.astype(np.float32), np.float32(0), np.float32(1))
    index1 = index0 + (index0 < in_size - 1)
    return LinearTaps(index0, index1, (np.float32(1) - weight1).astype(np.float32),
                      weight1.astype(np.float32))


def downscaled_size(height: int, width: int, scale_factor: float):
    """The EFE input size of ``SGZEnhancer.downscale`` for an H x W image, and the
    ``scale_factor`` that ``F.interpolate`` gets there (None where it gets a size).

    Returns:
        tuple: ``(h, w, interpolate_scale)``.
    """
    if scale_factor == 1:
        return height, width, None
    if height % scale_factor == 0 and width % scale_factor == 0:
        # F.interpolate(x, scale_factor=1 / s): output floor(H * (1 / s)), step 1 / (1 / s).
        inverse = 1 / scale_factor
        return int(np.floor(height * inverse)), int(np.floor(width * inverse)), inverse
    return max(1, round(height / scale_factor)), max(1, round(width / scale_factor)), None
