"""The scene's own light sources, read from integer frames for the fast CPU runtime.

:meth:`CurveExposureControl.light_weight <mmlowlight.models.enhancers.CurveExposureControl>`
needs, per image, the brightest value, the mean level and the number of pixels whose largest
channel reaches ``light_ratio`` of that brightest value. PyTorch computes them on the float
frame (three passes over a full-resolution copy); here two passes read the uint8/uint16 frame
itself. The threshold is turned into the smallest integer level whose float32 value
(``v / max``, as :func:`mmlowlight.apis.inference.to_model_input` converts) reaches it, so the
count is the reference's exactly; the mean differs by float rounding only. The weight is the
control's own arithmetic on these three (``light_weight_of``).
"""
from typing import Optional

import numba
import numpy as np
import torch

__all__ = ['light_weights', 'level_caps']

_F32 = np.float32


@numba.njit(nogil=True, cache=True, error_model='numpy')
def _light_statistics(rows, ratio, max_value):
    """(brightest value, sum of all values, pixels at >= ratio x brightest) of one image,
    ``rows`` (H, W * 3) uint8/uint16. Rows whose largest value is below the threshold are
    skipped in the second pass (most of a dark frame)."""
    height, width3 = rows.shape
    row_top = np.zeros(height, np.int64)
    total = np.int64(0)
    for y in range(height):
        row = rows[y]
        # The row's own type: an int64 maximum widened every value and kept the loop from
        # vectorising (1080p: 0.73 -> 0.30 ms).
        top = row[0]
        partial = np.uint64(0)
        for k in range(width3):
            value = row[k]
            top = max(top, value)
            partial += value
        row_top[y] = top
        total += np.int64(partial)
    brightest = row_top.max()
    # float32 as the reference: x = v / max, then x >= ratio * top.
    threshold = ratio * (_F32(brightest) / max_value)
    level = brightest
    while level > 0 and _F32(level - 1) / max_value >= threshold:
        level -= 1
    count = 0
    for y in range(height):
        if row_top[y] < level:
            continue
        row = rows[y]
        for p in range(width3 // 3):
            if max(row[3 * p], row[3 * p + 1], row[3 * p + 2]) >= level:
                count += 1
    return brightest, total, count


def light_weights(control, frames: np.ndarray) -> np.ndarray:
    """``control.light_weight`` of integer frames.

    Args:
        control (CurveExposureControl): The exposure control (its ``light_ratio`` and
            ``light_weight_of``).
        frames (np.ndarray): N x H x W x 3 uint8/uint16, any channel order.

    Returns:
        np.ndarray: (N,) float32 weights in [0, 1].
    """
    n, height, width, _ = frames.shape
    max_value = _F32(np.iinfo(frames.dtype).max)
    stats = np.array([_light_statistics(np.ascontiguousarray(frame).reshape(height, -1),
                                        _F32(control.light_ratio), max_value) for frame in frames],
                     np.float64).reshape(n, 3)
    top = stats[:, 0].astype(np.float32) / max_value
    share = stats[:, 2].astype(np.float32) / _F32(height * width)
    mean = (stats[:, 1] / (3.0 * height * width * float(max_value))).astype(np.float32)
    return control.light_weight_of(*(torch.from_numpy(v) for v in (share, top, mean))).numpy()


def level_caps(control, light: Optional[np.ndarray], n: int) -> np.ndarray:
    """``control.level_cap`` as (N, 2) float32 terms: the cap at low mean levels
    (``max_level`` lowered toward ``light_level`` by the weights ``light``; ``max_level`` for
    all without them) and what ``max_level_rise`` adds to it at its full mean level (0 without
    a rise). The cap at mean level ``m`` is ``caps[:, 0] + caps[:, 1] * ramp(m)``, the
    control's own arithmetic up to float rounding."""
    weights = None if light is None else torch.from_numpy(np.asarray(light, np.float32))
    cap = torch.as_tensor(control.level_cap(weights), dtype=torch.float32).expand(n)
    rise = torch.zeros(n)
    rise_args = getattr(control, 'max_level_rise', None)
    if rise_args is not None:
        rise = control.level_cap(weights, torch.full((n, ), float(rise_args[1]))) - cap
    return np.ascontiguousarray(torch.stack([cap, rise], dim=1).numpy(), np.float32)
