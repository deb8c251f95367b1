"""Motion-adaptive recursive temporal denoising of video frames, on the dark YUV input.

SGZ's curve amplifies whatever noise a dark frame carries, and in a video fresh sensor noise in
every frame makes static regions crawl. Averaging the frames where nothing moves removes that
noise before the curve sees it; where something moves, the current frame is taken as it is, so
moving objects leave no trails.

Per pixel, with ``d = frame - mean`` (``mean``: the running average) and ``sigma`` the noise
standard deviation of the plane:

- motion ``m = max(ramp(|box3(d)|, low * sigma, high * sigma),
  ramp(|d|, spike * sigma, (spike + 1) * sigma))`` in [0, 1]: the 3 x 3 box mean of the
  difference is the robust test (its noise is a third of a pixel's); a single pixel far off the
  mean (a thin moving line) also counts as motion. Chroma pixels take the largest luma motion of
  the luma pixels they cover, and their own chroma test;
- ``n <- min(1 + (1 - m) * n, max_frames)``: the number of frames averaged so far restarts at 1
  where something moves and grows by one per static frame;
- ``mean <- mean + d / n`` (a running average of the last ``n`` frames), which is the output.

A static pixel's noise falls to ``sqrt(1 / (2 * max_frames - 1))`` of the input's (0.26 for 8
frames). ``sigma`` is estimated per frame from the differences to the running mean (a truncated
mean absolute deviation on a subsample, robust to the moving pixels) unless given. A scene cut
(most coarse blocks of the frame change by well over the noise) restarts the filter.

Motion: where the camera pans, shakes or drives forward, or an object moves, a few pixels' shift
of fine texture in a dark, noisy frame is fainter than the noise, so the per-pixel test above
calls it static and the average smears it into streaks; where the test does see the motion, the
average restarts and the noise comes back. The filter therefore follows the motion first
in two steps: the running means and counts are shifted by the whole-frame translation
(:mod:`.global_motion`: whole pixels, robust on texture fainter than the noise), then warped
along what camera motion is left, a homography fitted to the optical flow from the new frame
to the shifted mean (:mod:`.projective_motion`: forward motion, zoom, roll). The pixels the
motion brings in start afresh from the new frame.

Working on the decoded YUV planes is also the cheapest place: 1.5 bytes per pixel instead of
the 3 of RGB, before any colour conversion.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmlowlight.ops.temporal_denoise import motion_adaptive_step_numba
from mmlowlight.registry import MODELS
from .global_motion import estimate_translation, shift_plane_
from .projective_motion import estimate_homography, warp_state_

__all__ = ['MotionAdaptiveTemporalDenoiser', 'motion_adaptive_step_torch', 'estimate_noise_sigma']

#: sqrt(E[X^2]) of a zero-mean Gaussian X truncated to |X| < 3 sigma, over sigma.
_TRUNCATED_RMS = 0.98658
#: Pixels of the subsample the noise and scene-cut estimates look at: every 4th row / column.
_SAMPLE_STEP = 4
#: Fewest samples per plane for the noise estimate (a coarser grid on large frames keeps it
#: cheap: 1080p luma is sampled every 8th pixel, 32k samples).
_NOISE_SAMPLES = 30000


def _ramp(value: Tensor, low: float, high: float) -> Tensor:
    if high <= low:
        return (value > low).float()
    return ((value - low) / (high - low)).clamp_(0, 1)


def _box3(plane: Tensor) -> Tensor:
    """3 x 3 mean with replicated edges of an (H, W) float tensor."""
    padded = F.pad(plane[None, None], (1, 1, 1, 1), mode='replicate')
    return F.avg_pool2d(padded, 3, stride=1)[0, 0]


def motion_adaptive_step_torch(planes: Sequence[Tensor], means: Sequence[Tensor],
                               counts: Sequence[Tensor], sigmas: Sequence[float], low: float,
                               high: float, spike: float, max_frames: float
                               ) -> Tuple[List[Tensor], List[Tensor], List[Tensor]]:
    """One frame of the filter, in plain PyTorch (the reference the numba kernel matches).

    Args:
        planes (Sequence[Tensor]): Y (H, W) and optionally U, V (h, w), any real dtype, grey
            levels.
        means (Sequence[Tensor]): float32 running means, one per plane.
        counts (Sequence[Tensor]): float32 frames-averaged counts at luma and (with chroma)
            chroma resolution.
        sigmas (Sequence[float]): Noise standard deviation per plane.
        low, high, spike, max_frames: See :class:`MotionAdaptiveTemporalDenoiser`.

    Returns:
        tuple: The filtered uint8 planes, the new means and the new counts.
    """
    planes = [p.float() for p in planes]
    diff = planes[0] - means[0]
    motion = torch.maximum(_ramp(_box3(diff).abs(), low * sigmas[0], high * sigmas[0]),
                           _ramp(diff.abs(), spike * sigmas[0], (spike + 1) * sigmas[0]))
    count = (1 + (1 - motion) * counts[0]).clamp_(max=max_frames)
    new_means = [means[0] + diff / count]
    new_counts = [count]
    if len(planes) == 3:
        (height, width), (h, w) = planes[0].shape, planes[1].shape
        step = (-(-height // h), -(-width // w))
        chroma_motion = F.max_pool2d(motion[None, None], step, step, ceil_mode=True)[0, 0]
        diffs = [planes[k] - means[k] for k in (1, 2)]
        for k, d in zip((1, 2), diffs):
            chroma_motion = torch.maximum(
                chroma_motion, _ramp(_box3(d).abs(), low * sigmas[k], high * sigmas[k]))
        chroma_count = (1 + (1 - chroma_motion) * counts[1]).clamp_(max=max_frames)
        new_means += [means[k] + d / chroma_count for k, d in zip((1, 2), diffs)]
        new_counts.append(chroma_count)
    outs = [(m + 0.5).clamp_(0, 255).to(torch.uint8) for m in new_means]
    return outs, new_means, new_counts


def estimate_noise_sigma(diff: np.ndarray, count: np.ndarray) -> float:
    """Noise standard deviation of a plane from its differences to the running mean.

    A root mean square truncated at 3 sigma (three refinements from the median), so that moving
    pixels, whose differences are large, do not count; ``diff`` has variance
    ``sigma**2 * (1 + 1 / n)`` (the running mean's own noise), which is divided out. The mean
    square, not the median: in a compressed video many blocks repeat the previous frame (a
    difference of 0) while the others carry the noise, and the median of that mixture
    underestimated the noise of a CRF 20 H.264 clip by a third, which left half the noise in.

    Args:
        diff (np.ndarray): Differences ``frame - mean`` of a subsample, float32.
        count (np.ndarray): The frames-averaged counts at the same pixels.

    Returns:
        float: sigma in grey levels.
    """
    magnitude = np.abs(diff.ravel())
    spread = 1.4826 * float(np.median(magnitude))
    spread = max(spread, float(np.sqrt(np.mean(magnitude ** 2))) / 3)
    for _ in range(3):
        kept = magnitude[magnitude < 3 * spread] if spread > 0 else magnitude[:0]
        if kept.size < 16:
            break
        spread = float(np.sqrt(np.mean(kept ** 2))) / _TRUNCATED_RMS
    return spread / float(np.sqrt(1 + np.mean(1 / count)))


@MODELS.register_module()
class MotionAdaptiveTemporalDenoiser(nn.Module):
    """Recursive temporal denoiser for 8-bit YUV video frames (stateful, frame by frame).

    Feed the frames in display order with :meth:`forward`; :meth:`reset` forgets the past
    (done automatically at scene cuts and when the frame size changes).

    Args:
        max_frames (int): Most frames averaged where nothing moves (the strength); 1 disables
            the filter. Defaults to 8 (static noise down to 0.26x).
        noise_sigma (float, optional): Noise standard deviation of the input in grey levels
            (0-255). None (default): estimated every frame.
        motion_low (float): Box-mean difference, in sigmas, where a pixel starts to count as
            moving. Defaults to 1.0 (the trail of a faint object against the noise left is
            the trade-off: see tools/benchmark_video.py).
        motion_high (float): Box-mean difference, in sigmas, above which a pixel is moving for
            certain (no averaging). Defaults to 2.0.
        motion_spike (float): Single-pixel difference, in sigmas, above which a pixel is
            moving. Defaults to 4.0.
        scene_cut (float): Fraction of 16 x 16 blocks whose mean must change by more than
            ``max(2, sigma)`` grey levels for a scene cut, in (0, 1]. Defaults to 0.5.
        follow_motion (bool): Shift and warp the state with the camera's motion (pans, shake,
            forward motion, zoom, roll) before each frame. Defaults to True (a pan and a
            forward drive over dark texture: see ``tests/test_models/test_video_denoisers``).
        backend (str): ``'numba'`` (default; the fast kernel) or ``'torch'`` (the reference).
    """

    def __init__(self, max_frames: int = 8, noise_sigma: Optional[float] = None,
                 motion_low: float = 1.0, motion_high: float = 2.0, motion_spike: float = 4.0,
                 scene_cut: float = 0.5, follow_motion: bool = True,
                 backend: str = 'numba') -> None:
        super().__init__()
        if int(max_frames) != max_frames or max_frames < 1:
            raise ValueError(f'max_frames must be an integer >= 1, got {max_frames}')
        if noise_sigma is not None and not noise_sigma > 0:
            raise ValueError(f'noise_sigma must be > 0 (or None: estimated), got {noise_sigma}')
        if not 0 <= motion_low < motion_high:
            raise ValueError(f'need 0 <= motion_low < motion_high, got {motion_low}, '
                             f'{motion_high}')
        if not motion_spike > 0:
            raise ValueError(f'motion_spike must be > 0, got {motion_spike}')
        if not 0 < scene_cut <= 1:
            raise ValueError(f'scene_cut must be in (0, 1], got {scene_cut}')
        if backend not in ('numba', 'torch'):
            raise ValueError(f"backend must be 'numba' or 'torch', got {backend!r}")
        self.max_frames = int(max_frames)
        self.noise_sigma = noise_sigma
        self.motion_low, self.motion_high, self.motion_spike = motion_low, motion_high, \
            motion_spike
        self.scene_cut = scene_cut
        self.follow_motion = bool(follow_motion)
        self.backend = backend
        self.scene_cuts = 0
        #: Frames whose state was shifted with the whole-frame translation.
        self.camera_shifts = 0
        #: Frames whose state was warped along a homography after that.
        self.motion_warps = 0
        self.reset()

    def reset(self) -> None:
        """Forget the past frames."""
        self._means: List[np.ndarray] = []
        self._counts: List[np.ndarray] = []
        self._sigmas: Optional[List[float]] = None
        self._blocks: Optional[np.ndarray] = None
        # The chroma planes' share of the luma shifts not yet applied (half pixels in 4:2:0).
        self._chroma_pending = np.zeros(2)

    @property
    def sigmas(self) -> Optional[List[float]]:
        """The noise levels used for the last frame, per plane (grey levels)."""
        return None if self._sigmas is None else list(self._sigmas)

    def _block_means(self, luma: np.ndarray) -> np.ndarray:
        sample = luma[::_SAMPLE_STEP, ::_SAMPLE_STEP].astype(np.float32)
        per_block = 16 // _SAMPLE_STEP
        h, w = (sample.shape[0] // per_block) * per_block, (sample.shape[1] // per_block) * \
            per_block
        if h == 0 or w == 0:
            return sample.reshape(1, -1).mean(1, keepdims=True)
        return sample[:h, :w].reshape(h // per_block, per_block, w // per_block,
                                      per_block).mean((1, 3))

    def _is_scene_cut(self, luma: np.ndarray) -> bool:
        blocks = self._block_means(luma)
        previous, self._blocks = self._blocks, blocks
        if previous is None or previous.shape != blocks.shape:
            return False
        threshold = max(2.0, self._sigmas[0] if self._sigmas else 0.0)
        return float(np.mean(np.abs(blocks - previous) > threshold)) > self.scene_cut

    def _update_sigmas(self, planes: Sequence[np.ndarray]) -> List[float]:
        if self.noise_sigma is not None:
            return [float(self.noise_sigma)] * len(planes)
        sigmas = []
        for k, plane in enumerate(planes):
            step = max(1, int(np.sqrt(plane.size / _NOISE_SAMPLES)))
            count = self._counts[min(k, 1)][::step, ::step]
            diff = plane[::step, ::step].astype(np.float32) - self._means[k][::step, ::step]
            # Chroma: encoders keep little of its noise, but what is left gets amplified too.
            floor = 0.5 if k == 0 else max(0.5, 0.5 * sigmas[0])
            sigmas.append(max(estimate_noise_sigma(diff, count), floor))
        if self._sigmas is not None:  # steadier thresholds: the estimate itself is noisy
            sigmas = [0.7 * old + 0.3 * new for old, new in zip(self._sigmas, sigmas)]
        return sigmas

    def _follow_motion(self, planes: Sequence[np.ndarray]) -> None:
        self._follow_translation(planes)
        homography = estimate_homography(self._means[0], planes[0])
        if homography is not None:
            self.motion_warps += 1
            warp_state_(self._means, self._counts, homography, planes)

    def _follow_translation(self, planes: Sequence[np.ndarray]) -> None:
        shift = estimate_translation(self._means[0], planes[0])
        if shift is None:
            return
        self.camera_shifts += 1
        dy, dx = shift
        shift_plane_(self._means[0], dy, dx, planes[0])
        shift_plane_(self._counts[0], dy, dx, None)
        if len(planes) == 3:
            (height, width), (h, w) = planes[0].shape, planes[1].shape
            self._chroma_pending += (dy / -(-height // h), dx / -(-width // w))
            chroma_dy, chroma_dx = (int(v) for v in np.round(self._chroma_pending))
            if chroma_dy or chroma_dx:
                for k in (1, 2):
                    shift_plane_(self._means[k], chroma_dy, chroma_dx, planes[k])
                shift_plane_(self._counts[1], chroma_dy, chroma_dx, None)
                self._chroma_pending -= (chroma_dy, chroma_dx)

    def _start(self, planes: Sequence[np.ndarray]) -> None:
        self._means = [p.astype(np.float32) for p in planes]
        self._counts = [np.ones(planes[0].shape, np.float32)]
        if len(planes) == 3:
            self._counts.append(np.ones(planes[1].shape, np.float32))

    def forward(self, planes: Sequence[np.ndarray],
                outs: Optional[Sequence[np.ndarray]] = None) -> List[np.ndarray]:
        """Filter the next frame.

        Args:
            planes (Sequence[np.ndarray]): uint8 Y (H, W), or Y, U, V with U and V (h, w) at the
                same or a subsampled resolution (4:2:0, 4:2:2, 4:4:4); strided views allowed.
            outs (Sequence[np.ndarray], optional): uint8 arrays of the same shapes to write the
                result to (e.g. the planes of an output frame). Default: new arrays.

        Returns:
            list[np.ndarray]: The filtered planes (``outs`` when given).
        """
        if len(planes) not in (1, 3) or any(p.dtype != np.uint8 or p.ndim != 2 for p in planes):
            raise ValueError('expected 1 or 3 two-dimensional uint8 planes, got '
                             f'{[(p.dtype, p.shape) for p in planes]}')
        if outs is None:
            outs = [np.empty(p.shape, np.uint8) for p in planes]
        shapes = [p.shape for p in planes]
        restart = not self._means or [m.shape for m in self._means] != shapes
        if not restart and self._is_scene_cut(planes[0]):
            self.scene_cuts += 1
            restart = True
        if restart or self.max_frames == 1:
            self.reset()
            self._start(planes)
            self._blocks = self._block_means(planes[0])
            for out, plane in zip(outs, planes):
                out[...] = plane
            return list(outs)
        if self.follow_motion:
            self._follow_motion(planes)
        self._sigmas = self._update_sigmas(planes)
        params = (self.motion_low, self.motion_high, self.motion_spike, float(self.max_frames))
        if self.backend == 'numba':
            motion_adaptive_step_numba(planes, self._means, self._counts, self._sigmas, outs,
                                       *params)
            return list(outs)
        with torch.inference_mode():
            filtered, means, counts = motion_adaptive_step_torch(
                [torch.from_numpy(np.ascontiguousarray(p)) for p in planes],
                [torch.from_numpy(m) for m in self._means],
                [torch.from_numpy(c) for c in self._counts], self._sigmas, *params[:3],
                params[3])
        self._means = [m.numpy() for m in means]
        self._counts = [c.numpy() for c in counts]
        for out, plane in zip(outs, filtered):
            out[...] = plane.numpy()
        return list(outs)
