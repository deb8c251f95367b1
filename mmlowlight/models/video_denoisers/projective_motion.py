"""Camera motion beyond a translation (a dashcam driving forward, a zoom, a roll) between a
recursive filter's running mean and the next frame, and the warp that carries the filter's state
along it.

A recursive temporal filter averages each pixel with the same pixel of the past frames. When the
camera drives forward, the scene expands from a point: every pixel shows a different scene point
from frame to frame, by an amount that grows towards the frame's edges. In a dark, noisy clip
the per-pixel motion test misses a shift of fine texture that is fainter than the noise (the
filter averages it into streaks) and restarts the average where it sees the motion (the noise
comes back). :mod:`.global_motion` follows a translation only; this module follows the rest.

The motion is a homography (the motion of a plane or of a distant scene seen by a moving
camera), fitted by OpenCV's RANSAC (``cv2.findHomography``) to the DIS optical flow (Kroeger et
al., ECCV 2016; ``cv2.DISOpticalFlow``, ultrafast preset refined one level further) of reduced
luma (1/6 scale at 1080p, at least 1/2), from the new frame to the running mean. One model for
the whole frame pools the evidence of every pixel: the flow of a single pixel on texture fainter
than the noise is unreliable, and a dense warp along it misplaced such texture (a dev probe on
the dark ``coffee`` scene zooming 2 % per frame: error 0.74 against 0.63 grey levels, fine
detail kept 0.65 against 0.81). What the homography does not explain (near objects, moving
objects) is left to the per-pixel test, as before. The mean is nearly noise-free, and the motion
measured is that of the state itself, so estimation errors do not add up over frames.

A homography is only taken where the motion is not mostly a translation (that is
:mod:`.global_motion`'s to follow: the flow underestimates a shift of faint texture, and part of
a shift taken leaves the state a fraction of a pixel off, which whole-pixel shifts cannot
undo), where it moves some pixel by ``SNAP`` pixels or more, and where it lowers the mismatch
between the two clearly.

The warp resamples the running luma mean bicubically: resampled once per frame, bilinear
interpolation blurs fine texture (the ``coffee`` probe, dense warps: detail 0.52-0.58 of the
noise-free frames' against 0.65-0.88 bicubic); the chroma means, which hold little fine
texture, bilinearly (a third of the cost). The frames-averaged counts move with the nearest
source pixel; pixels whose source lies outside the frame start afresh from the new frame.
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np

from .global_motion import reduced_pair

__all__ = ['estimate_homography', 'warp_state_']

#: Longest side of the reduced luma the flow is measured on: 1/6 scale at 1080p (noise / 6),
#: 1/12 at 4K, never less than 1/2.
_REDUCED_SIDE = 320
#: The DIS pyramid level the flow is refined down to (the preset's 2 stops at a quarter of the
#: reduced size: its fit was 0.3-0.5 px off on a 2 % zoom, 1 brings that to 0.1 px; 0 costs
#: 4x more for 0.08).
_FINEST_SCALE = 1
#: Motion under this many full-resolution pixels everywhere counts as none.
SNAP = 0.3
#: Largest mismatch after the warp, as a share of that before, for the motion to be taken: on
#: a static noisy scene a fit to the flow takes 0.96-1.0 of the mismatch away (the ``coffee``
#: probe), a 0.5-2 % zoom per frame 0.8-0.9 (a slower one is followed once the state's offset
#: has grown).
_MIN_IMPROVEMENT = 0.95
#: Percentiles of the reduced mean stretched to 0-255 for the flow (a dark clip's few grey
#: levels would otherwise be below the flow's patch contrast).
_STRETCH = (1.0, 99.5)
#: Every this many flow vectors (per side, at the reduced scale) enter the fit.
_FIT_STEP = 4
#: RANSAC's inlier distance, in reduced pixels.
_FIT_TOLERANCE = 1.0


def _regridded(homography: np.ndarray, ratio_x: float, ratio_y: float) -> np.ndarray:
    """``homography`` (between two pixel grids of one size) between grids ``ratio_x`` x
    ``ratio_y`` times coarser (below 1: finer). Pixel centres: coarse ``x`` is fine
    ``ratio_x * x + (ratio_x - 1) / 2``."""
    coarse_to_fine = np.array([[ratio_x, 0, (ratio_x - 1) / 2], [0, ratio_y, (ratio_y - 1) / 2],
                               [0, 0, 1]])
    return np.linalg.inv(coarse_to_fine) @ homography @ coarse_to_fine


def estimate_homography(reference: np.ndarray, current: np.ndarray) -> Optional[np.ndarray]:
    """Where each pixel of ``current`` was in ``reference``, as one homography.

    Args:
        reference (np.ndarray): (H, W) luma the state is aligned to (e.g. a running mean),
            float32 or uint8, grey levels.
        current (np.ndarray): (H, W) luma of the new frame, same size, any real dtype.

    Returns:
        np.ndarray | None: 3 x 3 float64 ``M`` taking a pixel ``(x, y, 1)`` of ``current`` to
        the point of ``reference`` it shows (projectively). None when the frames are too small
        to measure, nothing moves by ``SNAP`` pixels, the motion is mostly a translation
        (its spread about the mean flow below ``SNAP`` or below the mean's length), no
        homography fits, or it does not lower the mismatch clearly.

    Raises:
        ValueError: The planes are not 2-D or differ in size.
    """
    reduced = reduced_pair(reference, current, _REDUCED_SIDE)
    if reduced is None:
        return None
    ref, cur, scale = reduced
    low, high = np.percentile(ref[::2, ::2], _STRETCH)
    gain = 255 / max(float(high - low), 1.0)

    def stretched(plane: np.ndarray) -> np.ndarray:
        return np.clip((plane - low) * gain, 0, 255).astype(np.uint8)

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    dis.setFinestScale(_FINEST_SCALE)
    flow = dis.calc(stretched(cur), stretched(ref), None)
    vectors = flow[::_FIT_STEP, ::_FIT_STEP].reshape(-1, 2)
    mean = vectors.mean(axis=0)
    spread = float(np.sqrt(np.mean(np.sum((vectors - mean)**2, axis=1))))
    if spread * scale < SNAP or spread < float(np.hypot(*mean)):
        return None
    rows, cols = np.mgrid[0:flow.shape[0]:_FIT_STEP, 0:flow.shape[1]:_FIT_STEP]
    points = np.stack([cols, rows], axis=-1).reshape(-1, 2).astype(np.float32)
    homography, _ = cv2.findHomography(points, points + vectors, cv2.RANSAC, _FIT_TOLERANCE)
    if homography is None:
        return None
    # The check, at the reduced scale: the reference moved along the homography must match the
    # new frame clearly better on average than as it is (a fit to a flow of noise barely does).
    height, width = ref.shape
    moved = cv2.warpPerspective(ref, homography, (width, height),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
    if not float(np.abs(cur - moved).mean()) < _MIN_IMPROVEMENT * float(
            np.abs(cur - ref).mean()):
        return None
    homography = _regridded(homography, 1 / scale, 1 / scale)
    corners = np.float32([[0, 0], [width * scale - 1, 0], [0, height * scale - 1],
                          [width * scale - 1, height * scale - 1]])
    moved_corners = cv2.perspectiveTransform(corners[None], homography)[0]
    if float(np.abs(moved_corners - corners).max()) < SNAP:
        return None
    return homography


def warp_state_(means: List[np.ndarray], counts: List[np.ndarray], homography: np.ndarray,
                planes: Sequence[np.ndarray]) -> None:
    """Move a recursive filter's state along ``homography``, in place (the lists' items
    replaced).

    Args:
        means (list[np.ndarray]): float32 running means, one per plane: Y (H, W) and
            optionally U, V at their own (e.g. 4:2:0) resolution.
        counts (list[np.ndarray]): float32 frames-averaged counts at luma and (with chroma)
            chroma resolution.
        homography (np.ndarray): :func:`estimate_homography` of the luma mean and the new luma.
        planes (Sequence[np.ndarray]): The new frame's planes: pixels whose source lies outside
            the frame take their value, with a count of 1.
    """
    luma_height, luma_width = means[0].shape
    fresh = []  # per count plane: the pixels whose source lies outside the frame
    for k, mean in enumerate(means):
        height, width = mean.shape
        # The same motion on a grid ``ratio`` times coarser (subsampled chroma).
        motion = _regridded(homography, luma_width / width, luma_height / height)
        interpolation = cv2.INTER_CUBIC if k == 0 else cv2.INTER_LINEAR
        means[k] = cv2.warpPerspective(mean, motion, (width, height),
                                       flags=interpolation | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_REPLICATE)
        if k <= 1:  # U and V share the chroma count
            counts[k] = cv2.warpPerspective(counts[k], motion, (width, height),
                                            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            fresh.append(counts[k] == 0)
        outside = fresh[min(k, 1)]
        if outside.any():
            means[k][outside] = planes[k][outside]
    for count, outside in zip(counts, fresh):
        count[outside] = 1
