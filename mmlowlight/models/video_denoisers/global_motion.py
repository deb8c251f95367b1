"""Whole-frame translation between a recursive filter's running mean and the next frame.

A recursive temporal filter averages each pixel with the same pixel of the past frames. When the
camera pans or shakes, that pixel shows different scene points from frame to frame; in a dark,
noisy clip a shift of fine texture by a few pixels stays below the per-pixel motion test (the
texture is fainter than the noise), so the filter averages it into streaks. Following the
whole-frame translation, and shifting the filter's state with it, keeps that texture.

The translation comes from OpenCV's phase correlation (``cv2.phaseCorrelate``) of reduced
luma (1/4 scale at 1080p), the running mean against the new frame, refined to the whole pixel
on a full-resolution crop. The mean is nearly noise-free, so the estimate is stable on static
scenes (rounded to whole pixels it is 0), and it measures the offset of the state itself, so
estimation errors do not add up over frames. A shift is only taken where it lowers the
mismatch between the two and does not raise it clearly in most of the frame: a large moving
object, or a zoom, whose correlation peak is not the background's, leaves the state as it is.
"""
from typing import Optional, Tuple

import cv2
import numpy as np

__all__ = ['estimate_translation', 'shift_plane_', 'reduced_pair']

#: Longest side of the reduced luma the translation is measured on: 1/4 scale at 1080p
#: (noise / 4; 2.7 ms per frame here), 1/8 at 4K, never less than 1/2.
_REDUCED_SIDE = 480
#: Fewest pixels per side at that scale: smaller frames are not measured.
_MIN_SIDE = 16
#: Side of the blocks (at that scale) whose median change in mismatch is checked.
_BLOCK = 8
#: Most rise of the median block's mismatch, as a share of it, that a shift may bring.
_TOLERANCE = 0.3
#: Side of the central full-resolution crop that refines the shift to the whole pixel.
_REFINE_CROP = 256


def reduced_pair(reference: np.ndarray, current: np.ndarray, longest_side: int
                 ) -> Optional[Tuple[np.ndarray, np.ndarray, int]]:
    """Both luma planes area-averaged to about ``longest_side`` pixels on their longer side.

    Args:
        reference (np.ndarray): (H, W) luma the state is aligned to, any real dtype.
        current (np.ndarray): (H, W) luma of the new frame, same size.
        longest_side (int): The reduction is ``max(2, max(H, W) // longest_side)``.

    Returns:
        tuple | None: float32 ``(reference, current, scale)`` at 1/scale; None when a side of
        the reduced planes would be under 16 pixels (too small to measure motion).

    Raises:
        ValueError: The planes are not 2-D or differ in size.
    """
    if reference.ndim != 2 or reference.shape != current.shape:
        raise ValueError(f'expected two 2-D planes of one size, got {reference.shape} and '
                         f'{current.shape}')
    scale = max(2, max(reference.shape) // longest_side)
    if min(reference.shape) < scale * _MIN_SIDE:
        return None
    height, width = reference.shape

    def reduced(plane: np.ndarray) -> np.ndarray:
        return cv2.resize(plane, (width // scale, height // scale),
                          interpolation=cv2.INTER_AREA).astype(np.float32, copy=False)

    return reduced(reference), reduced(current), scale


def estimate_translation(reference: np.ndarray, current: np.ndarray
                         ) -> Optional[Tuple[int, int]]:
    """The whole-pixel shift that maps ``reference`` onto ``current``, where it helps.

    Args:
        reference (np.ndarray): (H, W) luma the state is aligned to (e.g. a running mean),
            float32 or uint8, grey levels.
        current (np.ndarray): (H, W) luma of the new frame, same size, any real dtype.

    Returns:
        tuple[int, int] | None: ``(dy, dx)`` such that ``current[i, j]`` shows what
        ``reference[i - dy, j - dx]`` showed; None when the frames are too small to measure,
        the shift rounds to zero, or it does not lower the mismatch.

    Raises:
        ValueError: The planes are not 2-D or differ in size.
    """
    reduced = reduced_pair(reference, current, _REDUCED_SIDE)
    if reduced is None:
        return None
    ref, cur, scale = reduced
    window = cv2.createHanningWindow((ref.shape[1], ref.shape[0]), cv2.CV_32F)
    (shift_x, shift_y), _ = cv2.phaseCorrelate(ref, cur, window)
    dy, dx = int(round(shift_y * scale)), int(round(shift_x * scale))
    if dy == 0 and dx == 0:
        return None
    # The check, at the reduced scale (away from the borders that the shift brings in): the
    # shifted reference must match the frame better on average, and not clearly worse in most
    # blocks (the median block's mismatch may rise by at most 30 %). A large moving
    # object (a bus passing a static camera) can pull the correlation peak and lower the mean
    # mismatch, but the static background, most of the frame, then matches clearly worse. A
    # right shift lowers the mismatch where there is texture and leaves noise-only blocks
    # about even.
    warp = np.float32([[1, 0, shift_x], [0, 1, shift_y]])
    moved = cv2.warpAffine(ref, warp, (ref.shape[1], ref.shape[0]),
                           borderMode=cv2.BORDER_REPLICATE)
    margin_y = min(ref.shape[0] // 4, int(abs(shift_y)) + 2)
    margin_x = min(ref.shape[1] // 4, int(abs(shift_x)) + 2)
    inner = (slice(margin_y, ref.shape[0] - margin_y), slice(margin_x, ref.shape[1] - margin_x))
    before = np.abs(cur[inner] - ref[inner])
    after = np.abs(cur[inner] - moved[inner])
    if not float(after.mean()) < float(before.mean()):
        return None
    rows, cols = before.shape[0] // _BLOCK, before.shape[1] // _BLOCK
    if rows and cols:
        def block_means(x: np.ndarray) -> np.ndarray:
            return x[:rows * _BLOCK, :cols * _BLOCK].reshape(rows, _BLOCK, cols,
                                                             _BLOCK).mean(axis=(1, 3))
        before_blocks = block_means(before)
        change = float(np.median(block_means(after) - before_blocks))
        if change > _TOLERANCE * float(np.median(before_blocks)):
            return None
    return _refined(reference, current, dy, dx)


def _refined(reference: np.ndarray, current: np.ndarray, dy: int, dx: int) -> Tuple[int, int]:
    """The best whole-pixel shift within one pixel of ``(dy, dx)``, by the mean absolute
    difference on a central crop at full resolution: the peak's sub-pixel position at the
    reduced scale can be off by more than half a pixel, and a pixel of misalignment is what
    fine texture cannot stand."""
    height, width = reference.shape
    half = min(_REFINE_CROP, height // 2, width // 2) // 2
    top, left = height // 2 - half, width // 2 - half
    if top - abs(dy) - 1 < 0 or left - abs(dx) - 1 < 0:
        return dy, dx
    patch = current[top:top + 2 * half, left:left + 2 * half].astype(np.float32)
    best, best_cost = (dy, dx), np.inf
    for candidate_y in (dy - 1, dy, dy + 1):
        for candidate_x in (dx - 1, dx, dx + 1):
            if candidate_y == 0 and candidate_x == 0:
                continue
            source = reference[top - candidate_y:top - candidate_y + 2 * half,
                               left - candidate_x:left - candidate_x + 2 * half]
            cost = float(np.abs(patch - source).mean())
            if cost < best_cost:
                best, best_cost = (candidate_y, candidate_x), cost
    return best


def shift_plane_(plane: np.ndarray, dy: int, dx: int, fill: Optional[np.ndarray]) -> None:
    """Shift ``plane`` in place: ``plane[i, j] <- plane[i - dy, j - dx]``.

    Args:
        plane (np.ndarray): (H, W) array (a filter's state), modified in place.
        dy, dx (int): The shift in pixels (any sign; beyond the size: all new).
        fill (np.ndarray, optional): (H, W) values for the pixels the shift brings in (e.g.
            the new frame); None: ones (a frame count restarting at 1).
    """
    height, width = plane.shape
    if abs(dy) >= height or abs(dx) >= width:
        plane[...] = 1 if fill is None else fill
        return
    # In place (numpy copies overlapping slices correctly), then only the new strips filled:
    # no full-size temporaries (a 1080p frame's state is 15 MB).
    plane[max(0, dy):height - max(0, -dy), max(0, dx):width - max(0, -dx)] = \
        plane[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    strips = []
    if dy:
        strips.append((slice(0, dy) if dy > 0 else slice(height + dy, height), slice(None)))
    if dx:
        strips.append((slice(None), slice(0, dx) if dx > 0 else slice(width + dx, width)))
    for strip in strips:
        plane[strip] = 1 if fill is None else fill[strip]
