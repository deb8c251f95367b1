"""Exposure control of the SGZ curve: dark images to a natural level, well-lit ones untouched.

A curve estimator trained by an exposure loss pushes every image toward one level, also images
that were fine. This module works on the EFE's thumbnail and factor map (both cheap) and scales
the factor map by one number per image, ``r' = clamp(alpha * r, -1, 1)``, so that the mean level
of the enhanced thumbnail meets a target chosen from the input's own exposure:

- the image's *key* ``kappa = sqrt(mean level * highlight level)`` (the highlight level is a
  high quantile of the per-pixel largest channel) tells well-lit from dark: a well-exposed photo
  has mid-tones near middle grey *and* highlights near the top, a dim one lacks both;
- for a dark image (``kappa <= lit_keys[0]``) the target grows slowly with the light the image
  holds, ``target_level * (mean / reference_mean) ** level_slope``, capped at ``max_level``
  (a night scene stays darker than a dim room, as people expect of photographs);
- between ``lit_keys[0]`` and ``lit_keys[1]`` the brightening fades out linearly, and from
  ``lit_keys[1]`` on the target is the input's own level: ``alpha = 0`` and the curve is the
  identity (an already bright image is never brightened);
- with ``light_level``, a dark scene lit by its own light sources (street lamps, headlights,
  lit windows: a share of the frame at its brightest value, far above its mean level) is capped
  at that lower level instead of ``max_level``: the key of a night street is not that of a dim
  room. The scene's light sources are read from the full-resolution image
  (:meth:`light_weight`), where a lamp is a plateau of clipped pixels; the thumbnail blurs it.
  With ``light_black_quantile``, such a scene's blacks are also set (:meth:`black_point`): the
  floor that noise leaves in a dark capture would otherwise become a grey veil over the sky.

Before the search, the map itself is reshaped (both steps plain arithmetic on the thumbnail):

- ``share_channels``: the three channels' maps are replaced by their mean, so one curve brightens
  R, G and B alike and the capture's colour balance stays. The EFE's per-channel maps, trained by
  a grey-world colour-constancy loss, push every scene toward a grey mean: a scene dominated by
  one colour (an orange suit, a red cup, a ginger cat) came out pale with a cast in the opposite
  colour (``make demo``: a lavender wall, pink shadows);
- ``spatial_variation``: how much of the map's variation around its per-image mean is kept,
  ``r = mean + spatial_variation * (r - mean)``. The EFE lifts dark regions far more than lit
  ones, which flattens the scene's large-scale contrast (dark wood, a dark background turn
  pale); a part of that variation still lifts the shadows.

With ``gain_share = beta > 0`` a part of the lift is one linear gain applied to the image before
the curve, ``x <- g x`` with ``g = (target / mean) ** beta`` (:meth:`input_gain`; under an
sRGB-like power-law encoding an exposure change in linear light), and the curve only does the
rest: the search then runs on the gained thumbnail (clipped at 1). In the enhancer the denoiser
works on the gained image, and its values above ``knee`` are then rolled off into ``[knee, 1]``
(:meth:`roll_off`: ``g`` itself maps to 1, the slope at the knee is 1) instead of being
clipped, so highlights keep their gradations. The curve is concave, so reaching a mid-grey
mean it lifts dim light (a lamp's glow, the sky next to it) far more than an exposure change
would, and compresses the scene's contrast; a gain keeps both. Measured with the default
weights' network (``tools/analysis/evaluate_enhancer.py`` columns and the frozen detector of
``tools/analysis/dark_downstream_benchmark.py``, seeds 0-2, 2026-12-06), beta 0 / 0.5 / 0.6 /
0.7: ``lol_val_pairs`` 19.75 / 19.79 / 19.75 / 19.63 dB, night-pair SSIM 0.695 / 0.709 / 0.715 /
0.722, night halo 0.079 / 0.071 / 0.067 / 0.062, detection mAP recovered 70 / 76 / 77 / 78 %
(knee 0.8). The default weights record beta 0.7 with knee 0.6 (v2.4, with the denoiser at
1/4 resolution: detection 78 % over six seeds, LOL pairs 19.65 dB; v2.5 adds ``max_level=0.41``
and ``spatial_variation=1.0``: detection 80 %, LOL pairs 19.59 dB; v2.6 the night level
``light_level=0.30``: night-pair SSIM 0.85, detection 81 %, see
``docs/en/advanced_guides/pipeline.md``).

``alpha`` is found by bisection on a fixed-size copy of the thumbnail under ``no_grad``; gradients
still reach the EFE through ``alpha * r``. All in plain torch (training, GPU, ONNX); the fast CPU
runtime reproduces it in numba (:mod:`mmlowlight.ops.low_res_kernels`), tested against it.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmlowlight.registry import MODELS
from .sgz import recurrent_enhance

__all__ = ['CurveExposureControl', 'LIGHT_RATIO']

#: A pixel belongs to a light source when its largest channel is at least this share of the
#: image's brightest value (a clipped lamp is a plateau there; its glow falls off below).
LIGHT_RATIO = 0.9


@MODELS.register_module()
class CurveExposureControl(BaseModule):
    """Scale an SGZ factor map per image so that the output's mean level fits the image.

    Args:
        target_level (float): Output mean level of a dark image holding ``reference_mean``
            (0.45: middle grey, the sRGB value of 18 % reflectance). Defaults to 0.45.
        reference_mean (float): Input mean level at which the target is ``target_level``.
            Defaults to 0.05 (a typical night shot).
        level_slope (float): Exponent of the target's growth with the input's mean level
            (0: one level for every dark image). Defaults to 0.25.
        max_level (float): Cap of the target. Defaults to 0.6.
        max_level_rise (tuple[float, float, float], optional): ``(start, full, level)``: the
            cap rises linearly from ``max_level`` at the input mean level ``start`` to
            ``level`` at ``full`` and beyond (a ``level`` below ``max_level`` lowers it
            instead); scenes lit by their own lights still go toward ``light_level``. For
            underexposed daylight photos, which hold more light than a night capture and are
            expected brighter: ``(0.11, 0.18, 0.7)`` brings the SCI photos within 0.02 of the
            official network's level. It also lifts night scenes without lamps in view, whose
            captures have the same means (see the model card's known limits). None: one cap.
            Defaults to None.
        lit_keys (tuple[float, float]): Keys ``kappa`` where brightening starts to fade and
            where it stops. Defaults to (0.30, 0.45).
        highlight_quantile (float): Quantile of the per-pixel largest channel taken as the
            highlight level. Defaults to 0.99.
        max_scale (float): Largest ``alpha``. Defaults to 4.
        search_size (int): The thumbnail and its map are resized (bilinear) to this side for
            the search and the target (the cost stays constant with the image size).
            Defaults to 48.
        search_steps (int): Bisection steps (the level error halves with each). Defaults to 12.
        share_channels (bool): One map for R, G and B (their mean), see above. Defaults to True
            (the default weights were trained with False: their training configs pin it).
        spatial_variation (float): Share of the map's spatial variation kept, in [0, 1] (1: the
            map as estimated, 0: one curve per image). Defaults to 0.5.
        gain_share (float): Share ``beta`` in [0, 1) of the lift (in log terms) done by one
            linear gain before the curve (see above); 0: the curve alone. Defaults to 0.
        knee (float): Level in (0, 1) above which the gained image is rolled off rather than
            clipped (with ``gain_share`` only). Defaults to 0.6 (real dark photos' clipped
            share 0.04 % with the default weights; knee 0.7 / 0.8 / 0.9: 0.33 / 0.50 / 0.84 %,
            the other validation columns within 0.005).
        light_level (float, optional): Cap of the target, in (0, 1], for a dark scene lit by
            its own light sources (see :meth:`light_weight`); between it and ``max_level`` as
            the weight goes from 1 to 0. None: ``max_level`` for every scene. Defaults to None.
        light_shares (tuple[float, float, float, float]): Shares of the image's pixels at
            >= ``LIGHT_RATIO`` of its brightest value where the light sources start to count,
            count in full, start to fade and no longer count: lamps are compact, a larger
            bright region is a sky or a window, the light of a day (the darkened night photos
            here: 0.3-2.3 %; underexposed daylight photos with a bright sky: 4-6 %).
            Defaults to (0.0015, 0.004, 0.025, 0.04).
        light_contrast (tuple[float, float]): Ratios of the brightest value to the mean level
            where the light sources start to count and count in full. A lamp in a night scene
            stands far above it (night photos: about 1 / 0.26 = 3.8, and the same in a dark
            capture of them, whose ratios an exposure change keeps); a white object in a
            daylight scene (mean level about 0.4) about 2-3 times, a flat or foggy image's top
            less. Defaults to (3.2, 3.6).
        light_black_quantile (float, optional): In a dark scene lit by its own lights (as much
            as its :meth:`light_weight` and :meth:`dark_weight`), the level below which this
            share of the search thumbnail's darkest channel lies is taken to black, after the
            denoiser (see :meth:`black_point`; with ``gain_share`` only). None: no black point.
            Defaults to None.
        scale_aware_grad (bool): In training, give the gradient alpha's dependence on the map's
            strength (the search itself runs without gradient; see :meth:`forward`): without
            it, losses that prefer a weaker map shrink it unseen until ``max_scale`` caps alpha
            and the output collapses. No effect on values or at inference. Defaults to False
            (the configs that trained the default weights ran without it).

    The defaults of ``share_channels`` and ``spatial_variation`` were chosen by
    ``tools/analysis/evaluate_enhancer.py`` among (False, 1), (True, 1), (False, 0.5),
    (True, 0.5) and (False, 0): see the README's model card.
    """

    #: See :data:`LIGHT_RATIO`.
    light_ratio: float = LIGHT_RATIO

    def __init__(self,
                 target_level: float = 0.45,
                 reference_mean: float = 0.05,
                 level_slope: float = 0.25,
                 max_level: float = 0.6,
                 max_level_rise: Optional[Sequence[float]] = None,
                 lit_keys: Sequence[float] = (0.30, 0.45),
                 highlight_quantile: float = 0.99,
                 max_scale: float = 4.0,
                 search_size: int = 48,
                 search_steps: int = 12,
                 share_channels: bool = True,
                 spatial_variation: float = 0.5,
                 gain_share: float = 0.0,
                 knee: float = 0.6,
                 light_level: Optional[float] = None,
                 light_shares: Sequence[float] = (0.0015, 0.004, 0.025, 0.04),
                 light_contrast: Sequence[float] = (3.2, 3.6),
                 light_black_quantile: Optional[float] = None,
                 scale_aware_grad: bool = False) -> None:
        super().__init__()
        for name, value in (('target_level', target_level), ('reference_mean', reference_mean),
                            ('max_level', max_level), ('highlight_quantile', highlight_quantile)):
            if not 0 < value <= 1:
                raise ValueError(f'{name} must be in (0, 1], got {value!r}')
        if max_level_rise is not None and not (
                len(max_level_rise) == 3 and 0 <= max_level_rise[0] < max_level_rise[1] <= 1
                and 0 < max_level_rise[2] <= 1):
            raise ValueError(f'max_level_rise must be (start, full, level) with 0 <= start < '
                             f'full <= 1 and 0 < level <= 1, got {max_level_rise!r}')
        if level_slope < 0:
            raise ValueError(f'level_slope must be >= 0, got {level_slope!r}')
        if len(lit_keys) != 2 or not 0 <= lit_keys[0] < lit_keys[1] <= 1:
            raise ValueError(f'lit_keys must be (start, stop) with 0 <= start < stop <= 1, '
                             f'got {lit_keys!r}')
        if max_scale <= 0:
            raise ValueError(f'max_scale must be > 0, got {max_scale!r}')
        if not (isinstance(search_size, int) and search_size >= 1):
            raise ValueError(f'search_size must be a positive int, got {search_size!r}')
        if not (isinstance(search_steps, int) and search_steps >= 1):
            raise ValueError(f'search_steps must be a positive int, got {search_steps!r}')
        self.target_level = target_level
        self.reference_mean = reference_mean
        self.level_slope = level_slope
        self.max_level = max_level
        self.max_level_rise: Optional[Tuple[float, float, float]] = None if \
            max_level_rise is None else tuple(float(v) for v in max_level_rise)
        self.lit_keys: Tuple[float, float] = (float(lit_keys[0]), float(lit_keys[1]))
        self.highlight_quantile = highlight_quantile
        self.max_scale = max_scale
        self.search_size = search_size
        self.search_steps = search_steps
        if not 0 <= spatial_variation <= 1:
            raise ValueError(f'spatial_variation must be in [0, 1], got {spatial_variation!r}')
        if not 0 <= gain_share < 1:
            raise ValueError(f'gain_share must be in [0, 1), got {gain_share!r}')
        self.gain_share = float(gain_share)
        if not 0 < knee < 1:
            raise ValueError(f'knee must be in (0, 1), got {knee!r}')
        self.knee = float(knee)
        if light_level is not None and not 0 < light_level <= 1:
            raise ValueError(f'light_level must be in (0, 1] or None, got {light_level!r}')
        if len(light_shares) != 4 or not (0 <= light_shares[0] < light_shares[1]
                                          <= light_shares[2] < light_shares[3]):
            raise ValueError(f'light_shares must be (start, full, fade, none) with 0 <= start '
                             f'< full <= fade < none, got {light_shares!r}')
        if len(light_contrast) != 2 or not 0 <= light_contrast[0] < light_contrast[1]:
            raise ValueError(f'light_contrast must be (start, full) with 0 <= start < full, '
                             f'got {light_contrast!r}')
        if light_black_quantile is not None and not 0 <= light_black_quantile < 0.5:
            raise ValueError(f'light_black_quantile must be in [0, 0.5) or None, got '
                             f'{light_black_quantile!r}')
        self.light_level = None if light_level is None else float(light_level)
        self.light_black_quantile = None if light_black_quantile is None else \
            float(light_black_quantile)
        self.light_shares = tuple(float(v) for v in light_shares)
        self.light_contrast = tuple(float(v) for v in light_contrast)
        self.share_channels = bool(share_channels)
        self.spatial_variation = float(spatial_variation)
        self.scale_aware_grad = bool(scale_aware_grad)

    def shape_factor(self, factor: Tensor) -> Tensor:
        """The map the search scales: channels shared and spatial variation reduced.

        Args:
            factor (Tensor): The EFE's map (N, C, h, w) in [-1, 1], C = 3 or 3 * steps (the
                channels are shared within each step's group of 3).

        Returns:
            Tensor: (N, C, h, w) in [-1, 1] (means and convex blends of values in range).
        """
        if self.share_channels:
            # Per-step slices and repeat_interleave: a reshape (or unflatten + expand) of the
            # map failed torch.export's runtime asserts on the dynamic thumbnail size (ONNX).
            shared = torch.stack([factor[:, k:k + 3].mean(dim=1) for k in
                                  range(0, factor.shape[1], 3)], dim=1)
            factor = shared.repeat_interleave(3, dim=1)
        if self.spatial_variation != 1:
            mean = factor.mean(dim=(2, 3), keepdim=True)
            factor = mean + self.spatial_variation * (factor - mean)
        return factor

    def light_weight(self, x: Tensor) -> Tensor:
        """How much each image is a scene lit by its own light sources, in [0, 1].

        The share of pixels whose largest channel is >= ``light_ratio`` times the image's
        brightest value (clipped lamps, headlights, lit signs), through the trapezoid
        ``light_shares``, times the ratio of that brightest value to the mean level ramped over
        ``light_contrast``. Dim rooms (the LOL pairs: shares <= 0.1 %) have a few bright
        pixels, not a plateau; darkened night streets have 0.3-2.3 % at 3.5-4.9 times their
        mean level; the darkened ``make demo`` photos' clipped whites 2.2-3.0 times.

        A heuristic, read off the validation sets: a dim room with a lamp in view counts as
        lit by its own light, a daylight scene of unusual contrast may count in part.

        Args:
            x (Tensor): Full-resolution images (N, 3, H, W), RGB in [0, 1].

        Returns:
            Tensor: (N,) float32 weights in [0, 1].
        """
        x = x.float()
        brightest = x.amax(dim=1).flatten(1)
        top = brightest.amax(dim=1)
        share = (brightest >= self.light_ratio * top[:, None]).float().mean(dim=1)
        return self.light_weight_of(share, top, x.mean(dim=(1, 2, 3)))

    def light_weight_of(self, share: Tensor, top: Tensor, mean: Tensor) -> Tensor:
        """:meth:`light_weight` from its three statistics, each (N,) float32: the share of
        pixels at >= ``light_ratio`` of the brightest value, that value and the mean level
        (the fast CPU runtime counts them on integer frames)."""
        contrast = top / mean.clamp(min=1e-4)
        return _trapezoid(share, self.light_shares) * _ramp(contrast, self.light_contrast)

    def level_cap(self, light: Optional[Tensor], mean: Optional[Tensor] = None
                  ) -> Union[float, Tensor]:
        """The cap of the dark target: ``max_level``, raised by ``max_level_rise`` for the
        images' mean levels ``mean`` (N,) and lowered toward ``light_level`` by their
        :meth:`light_weight` ``light`` (N,), where those are given."""
        cap = self.max_level
        own = 1.0
        if light is not None and self.light_level is not None:
            cap = cap + light.float() * (self.light_level - self.max_level)
            own = 1 - light.float()
        if self.max_level_rise is None or mean is None:
            return cap
        start, full, level = self.max_level_rise
        return cap + own * _ramp(mean.float(), (start, full)) * (level - self.max_level)

    @torch.no_grad()
    def black_point(self, small: Tensor, light: Optional[Tensor] = None) -> Tensor:
        """The input level taken to black in a scene lit by its own lights.

        A dark capture's blacks are not black: the noise, rectified at 0 and bent by the
        camera's tone curve, leaves a floor that a gain lifts into a grey veil over a night
        sky. The floor is read as the ``light_black_quantile`` quantile of the darkest channel
        of the search thumbnail (its resizing averages the noise), times the scene's
        :meth:`light_weight` (0 for a dim room or a daylight scene) and its :meth:`dark_weight`
        (0 for a night photo exposed as it should be, which comes back as it is).

        Args:
            small (Tensor): Thumbnails (N, 3, h, w), RGB in [0, 1].
            light (Tensor, optional): The images' :meth:`light_weight` (N,).

        Returns:
            Tensor: (N, 1, 1, 1) levels in [0, 1); zeros without ``light`` or
            ``light_black_quantile``.
        """
        if light is None or self.light_black_quantile is None:
            return small.new_zeros(small.shape[0], 1, 1, 1)
        small = F.interpolate(small.float(), size=(self.search_size, self.search_size),
                              mode='bilinear')
        darkest = small.amin(dim=1).flatten(1)
        rank = int(self.light_black_quantile * (darkest.shape[1] - 1) + 0.5)
        # Float bounds: clamp(0, 0.5) failed the ONNX export (its int bound became a tensor).
        level = darkest.sort(dim=1).values[:, rank].clamp(min=0.0, max=0.5)
        return (light.float() * self.dark_weight(small) * level).view(-1, 1, 1, 1)

    def dark_weight(self, small: Tensor) -> Tensor:
        """How much each image is a dark one to brighten, (N,) in [0, 1]: 1 up to the key
        ``lit_keys[0]``, 0 from ``lit_keys[1]`` on (see the module's notes).

        Args:
            small (Tensor): Thumbnails (N, 3, h, w), RGB in [0, 1].
        """
        mean = small.mean(dim=(1, 2, 3))
        brightest = small.amax(dim=1).flatten(1)
        count = brightest.shape[1]
        rank = min(count - 1, int(self.highlight_quantile * (count - 1) + 0.5))
        highlight = brightest.sort(dim=1).values[:, rank]
        key = (mean * highlight).clamp(min=0).sqrt()
        start, stop = self.lit_keys
        return ((stop - key) / (stop - start)).clamp(0, 1)

    def target(self, small: Tensor, light: Optional[Tensor] = None) -> Tensor:
        """The output mean level each image should reach.

        Args:
            small (Tensor): Thumbnails (N, 3, h, w), RGB in [0, 1].
            light (Tensor, optional): The images' :meth:`light_weight` (N,); None: no scene
                counts as lit by its own lights.

        Returns:
            Tensor: (N,) levels in [0, 1], never below the input's own mean level.
        """
        mean = small.mean(dim=(1, 2, 3))
        dark_weight = self.dark_weight(small)
        dark_target = (self.target_level * (mean.clamp(min=1e-4) / self.reference_mean)
                       ** self.level_slope).clamp(max=self.level_cap(light, mean))
        return mean + (dark_target - mean).clamp(min=0) * dark_weight

    @torch.no_grad()
    def input_gain(self, small: Tensor, light: Optional[Tensor] = None) -> Tensor:
        """The gain ``g = (target / mean) ** gain_share`` applied before the curve (>= 1).

        Args:
            small (Tensor): Thumbnails (N, 3, h, w) in [0, 1].
            light (Tensor, optional): The images' :meth:`light_weight` (N,).

        Returns:
            Tensor: (N, 1, 1, 1); all ones at ``gain_share = 0`` and where no brightening is
            wanted.
        """
        small = F.interpolate(small.float(), size=(self.search_size, self.search_size),
                              mode='bilinear')
        return self._gain_and_black(small, light)[0]

    def _gain_and_black(self, small: Tensor, light: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """:meth:`input_gain` and :meth:`black_point` (each (N, 1, 1, 1)) of search-size
        thumbnails: the gain lifts the black-pointed image's mean level to the target."""
        black = self.black_point(small, light)
        mean = ((small - black) / (1 - black)).clamp(min=0).mean(dim=(1, 2, 3)).clamp(min=1e-4)
        lift = (self.target(small, light) / mean).clamp(min=1)
        return (lift ** self.gain_share).view(-1, 1, 1, 1), black

    def roll_off(self, x: Tensor, gain: Tensor) -> Tensor:
        """The gained image's values above ``knee`` rolled off into [knee, 1], then clamped to
        [0, 1]: ``min(x, k) + d / (1 + rolloff_rate(g) * d)``, ``d = max(x - k, 0)``.

        Args:
            x (Tensor): (N, 3, H, W), the gained (and denoised) image, >= 0.
            gain (Tensor): Its :meth:`input_gain` (N, 1, 1, 1).

        Returns:
            Tensor: (N, 3, H, W) in [0, 1]; ``x`` clamped where the gain is 1.
        """
        excess = (x - self.knee).clamp(min=0)
        rate = self.rolloff_rate(gain).to(x.dtype)
        return (x.clamp(max=self.knee) + excess / (1 + rate * excess)).clamp(0, 1)

    def rolloff_rate(self, gain: Tensor) -> Tensor:
        """``c`` of :meth:`roll_off` for gains ``g``: ``(g - 1) / ((1 - k) (g - k))``, the rate
        that takes ``g`` (a white pixel before the gain) to 1; 0 at ``g = 1`` (the identity)."""
        return (gain - 1) / ((1 - self.knee) * (gain - self.knee))

    @torch.no_grad()
    def solve_scale(self, small: Tensor, factor: Tensor, num_iterations: int = 8,
                    light: Optional[Tensor] = None) -> Tensor:
        """Per-image ``alpha`` in [0, max_scale] that brings the mean level to :meth:`target`.

        Args:
            small (Tensor): Thumbnails (N, 3, h, w) in [0, 1].
            factor (Tensor): Their factor maps (N, C, h, w).
            num_iterations (int): The curve's steps. Defaults to 8.
            light (Tensor, optional): The images' :meth:`light_weight` (N,).

        Returns:
            Tensor: (N, 1, 1, 1).
        """
        # A fixed-size copy: the search costs the same for any image, and the computation has
        # no shape-dependent control flow (ONNX export with dynamic sizes).
        size = (self.search_size, self.search_size)
        small = F.interpolate(small.float(), size=size, mode='bilinear')
        factor = F.interpolate(factor.float(), size=size, mode='bilinear')
        target = self.target(small, light).view(-1, 1, 1, 1)
        if self.gain_share > 0:
            # The curve starts from the gained image (the target stays that of the input).
            gain, black = self._gain_and_black(small, light)
            small = ((small - black) * (gain / (1 - black))).clamp(0, 1)
        mean = small.mean(dim=(1, 2, 3), keepdim=True)
        low = torch.zeros_like(target)
        high = torch.full_like(target, self.max_scale)
        for _ in range(self.search_steps):
            middle = (low + high) / 2
            level = recurrent_enhance(small, (middle * factor).clamp(-1, 1),
                                      num_iterations).mean(dim=(1, 2, 3), keepdim=True)
            too_bright = level > target
            high = torch.where(too_bright, middle, high)
            low = torch.where(too_bright, low, middle)
        # Exactly 0 (the identity) where no brightening is wanted: the search assumes the level
        # grows with alpha, which a map that darkens somewhere need not satisfy.
        return torch.where(target > mean + 1e-4, low, torch.zeros_like(low))

    def forward(self, small: Tensor, factor: Tensor, num_iterations: int = 8,
                light: Optional[Tensor] = None) -> Tensor:
        """Scale the factor map.

        Args:
            small (Tensor): The EFE's input (N, 3, h, w), RGB in [0, 1].
            factor (Tensor): Its factor map (N, C, h, w) in [-1, 1]: C = 3 (shared by the
                steps) or 3 * num_iterations.
            num_iterations (int): The curve's steps. Defaults to 8.
            light (Tensor, optional): The full-resolution images' :meth:`light_weight` (N,)
                (used with ``light_level`` only).

        Returns:
            Tensor: ``clamp(alpha * factor, -1, 1)`` (N, C, h, w).
        """
        if small.dim() != 4 or small.shape[1] != 3 or factor.dim() != 4 or \
                factor.shape[1] % 3 or factor.shape[0] != small.shape[0] or \
                factor.shape[-2:] != small.shape[-2:]:
            raise ValueError(f'CurveExposureControl wants (N, 3, h, w) images and (N, 3k, h, w) '
                             f'factor maps, got {tuple(small.shape)} and {tuple(factor.shape)}')
        factor = self.shape_factor(factor)
        alpha = self.solve_scale(small, factor, num_iterations, light).to(factor.dtype)
        if self.scale_aware_grad and torch.is_grad_enabled() and factor.requires_grad:
            # alpha undoes any uniform scaling of the map (alpha(c r) = alpha(r) / c), but the
            # search runs without gradient: losses that prefer a weaker map (smoothness,
            # spatial consistency) then shrink r step by step, invisibly in the output, until
            # alpha hits max_scale and the output collapses. Dividing by the map's strength
            # with the value held (s.detach() / s == 1) gives the gradient that dependence;
            # not where alpha is capped (there a stronger map does brighten the output).
            strength = factor.abs().mean(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)
            free = alpha < self.max_scale * (1 - 2.0**-self.search_steps)
            alpha = torch.where(free, alpha * (strength.detach() / strength), alpha)
        return (alpha * factor).clamp(-1, 1)


def _ramp(value: Tensor, band: Sequence[float]) -> Tensor:
    """0 below ``band[0]``, 1 from ``band[1]`` on, linear between."""
    start, full = band
    return ((value - start) / (full - start)).clamp(0, 1)


def _trapezoid(value: Tensor, band: Sequence[float]) -> Tensor:
    """Up from 0 to 1 over ``band[:2]``, down to 0 again over ``band[2:]``."""
    return _ramp(value, band[:2]) * (1 - _ramp(value, band[2:]))
