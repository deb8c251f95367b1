"""Noise-adaptive fast guided filter: removes the noise the SGZ curve would amplify.

Curve methods brighten a pixel and its sensor noise by the same gain. This filter works in the
dark domain, before the curve, as a per-pixel, per-channel affine map ``x' = a * x + b``
(He, Sun & Tang's guided filter, self-guided per channel, with the coefficients computed at low
resolution as in He & Sun's *fast* guided filter, 2015):

1. ``sigma``: the noise level of each image and channel, from horizontal second differences of
   every ``noise_row_step``-th row at full resolution (a robust mean of ``|d|``: values above
   ``2.5`` times the plain mean, i.e. edges, are left out in a second pass);
2. ``x_low``: ``x`` average-pooled by ``scale`` (noise averages out, structure stays);
3. ``g``: the curve's gain ``d RIE / d x`` at ``x_low`` under the (low-resolution) factor map,
   computed at the factor map's resolution;
4. the regularisation ``eps = strength**2 * max(0, sigma**2 - (tolerance / g)**2)``: zero (the
   identity) where the amplified noise ``g * sigma`` stays below ``tolerance``, so well-lit images
   (``g = 1``, little noise) and bright regions pass untouched, and up to ``(strength *
   sigma)**2`` where the curve lifts noise into view;
5. box statistics over ``(2 * radius + 1)**2`` low-resolution pixels: ``a = var / (var + eps)``,
   ``b = (1 - a) * mean``, both box-averaged again;
6. ``a`` and ``b`` are upsampled (bilinear, aligned corners) and applied at full resolution.
   The fast CPU runtime fuses step 6 into its curve pass (``mmlowlight.ops``).

With ``detail_radius = r > 0`` (the default) the filter works on two scales. A plain guided
filter applies ``a`` to the noisy pixel itself, so wherever the curve amplifies noise it has to
push ``a`` toward 0 and replaces texture (fur, wood grain) by the window's mean. Here ``a``
applies to ``x_mid``, the mean of the ``(2 r + 1)**2`` full-resolution pixels around each pixel,
whose noise is ``sigma / (2 r + 1)``; ``eps`` is computed for that noise, so texture above the
``x_mid`` scale is kept. The finest detail ``x - x_mid`` (mostly noise where the gain is large)
is added back with the weight ``k = min(1, tolerance / (g * sigma))**2``: all of it where the
amplified noise is invisible (well-lit images stay unchanged), little where the curve lifts
noise far::

    x' = a * x_mid + b + k * (x - x_mid)

``tools/analysis/evaluate_enhancer.py`` measured (default weights, ``r = 1`` against 0):
lol_val SSIM 0.778 against 0.745 at the same PSNR, real-photo noise 0.99 against 1.23, and the
``make demo`` photos 1.0-1.9 dB closer to their originals.

Parameter-free (nothing to train), plain torch: it runs in training graphs (the coefficients are
constants there: they are computed without gradient), inside the downstream preprocessors, on GPU
and in the ONNX export.
"""
import math
from typing import Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmlowlight.registry import MODELS

__all__ = ['NoiseAdaptiveGuidedFilter', 'curve_gain', 'curve_lift']

#: Keeps a = var / (var + eps) exactly 1 where eps = 0, also for var = 0.
_TINY = 1e-12


def curve_gain(x: Tensor, factor: Tensor, num_iterations: int = 8) -> Tensor:
    """Slope of the RIE at ``x``: product over the steps of ``1 + r * (2 x_k - 1)``.

    Args:
        x (Tensor): (N, 3, h, w) in [0, 1].
        factor (Tensor): (N, 3, h, w) in [-1, 1] used by all ``num_iterations`` steps (SGZ),
            or (N, 3 * num_iterations, h, w), one map per step (Zero-DCE).
        num_iterations (int): Curve steps. Defaults to 8.

    Returns:
        Tensor: (N, 3, h, w), >= 0 (each step's slope lies in [0, 2] for r in [-1, 1]).
    """
    steps = [factor] * num_iterations if factor.shape[1] == 3 else torch.split(factor, 3, 1)
    gain = torch.ones_like(x)
    for r in steps:
        gain = gain * (1 + r * (2 * x - 1))
        x = x + r * (x * x - x)
    return gain


def curve_lift(x: Tensor, factor: Tensor, num_iterations: int = 8) -> Tensor:
    """How far the RIE lifts ``x``: ``1 - x / RIE(x)`` where the curve brightens, else 0.

    Args:
        x (Tensor): (N, 3, h, w) in [0, 1].
        factor (Tensor): As for :func:`curve_gain`.
        num_iterations (int): Curve steps. Defaults to 8.

    Returns:
        Tensor: (N, 3, h, w) in [0, 1): 0 where the curve is the identity or darkens, towards 1
        where it lifts a dark pixel far (the share of the output that the lift added).
    """
    steps = [factor] * num_iterations if factor.shape[1] == 3 else torch.split(factor, 3, 1)
    y = x
    for r in steps:
        y = y + r * (y * y - y)
    return (1 - x / y.clamp(min=1e-6)).clamp(min=0, max=1)


def _window_counts(length: int, radius: int, like: Tensor) -> Tensor:
    """How many of the 2 radius + 1 taps centred on each index fall inside [0, length)."""
    index = torch.arange(length, device=like.device, dtype=like.dtype)
    return (index + radius).clamp(max=length - 1) - (index - radius).clamp(min=0) + 1


def _box(x: Tensor, radius: int) -> Tensor:
    """Mean over (2 radius + 1)^2 windows (border windows: over what they hold).

    Separable depthwise convolutions with a ones kernel, divided by the window counts: the same
    as ``avg_pool2d(..., count_include_pad=False)``, whose CPU kernel is >10x slower here.
    """
    if radius == 0:
        return x
    channels, (height, width) = x.shape[1], x.shape[-2:]
    size = 2 * radius + 1
    ones = x.new_ones(channels, 1, 1, size)
    x = F.conv2d(x, ones, padding=(0, radius), groups=channels)
    x = F.conv2d(x, ones.view(channels, 1, size, 1), padding=(radius, 0), groups=channels)
    counts = _window_counts(height, radius, x)[:, None] * _window_counts(width, radius, x)
    return x / counts


def _interpolate_aligned(x: Tensor, like: Tensor) -> Tensor:
    """``x`` resized to ``like``'s H x W, bilinear with aligned corners."""
    return F.interpolate(x, size=tuple(like.shape[-2:]), mode='bilinear', align_corners=True)


def _exporting() -> bool:
    """Whether ``torch.export`` is tracing (False on torch versions without the query)."""
    is_exporting = getattr(getattr(torch, 'compiler', None), 'is_exporting', None)
    return is_exporting is not None and is_exporting()


if hasattr(torch.library, 'custom_op'):  # torch >= 2.4, as the dynamo ONNX export needs
    # For torch.export only, the same interpolation as one opaque op. torch's decomposition
    # of aligned-corners upsampling, which export runs while tracing, branches on
    # ``out_size > 1`` (the source step is 0 for a 1-pixel side); on a derived size such as
    # ceil(H / 8) or round(H / 12) the exporter cannot settle that branch for every H and
    # rejects the dynamic dims. onnx_export maps this op to ONNX Resize with align_corners,
    # which is what the exporter emits for F.interpolate (and which takes a 1-pixel side to
    # source step 0 too).
    @torch.library.custom_op('mmlowlight::resize_aligned', mutates_args=())
    def _resize_aligned_op(x: Tensor, like: Tensor) -> Tensor:
        return _interpolate_aligned(x, like)

    @_resize_aligned_op.register_fake
    def _(x: Tensor, like: Tensor) -> Tensor:
        return x.new_empty(*x.shape[:2], *like.shape[-2:])


def _resize(x: Tensor, like: Tensor) -> Tensor:
    """``x`` (N, C, h, w) resized to ``like``'s H x W (bilinear, aligned corners).

    Also at equal sizes (an exact copy then): no shape-dependent branch, for the ONNX export.
    """
    if _exporting():
        return torch.ops.mmlowlight.resize_aligned(x, like)
    return _interpolate_aligned(x, like)


@MODELS.register_module()
class NoiseAdaptiveGuidedFilter(BaseModule):
    """Dark-domain denoising whose strength follows the noise and the curve's gain.

    Args:
        scale (int): Downscale of the coefficient statistics. Defaults to 8 (chosen by
            ``tools/analysis/compare_denoisers.py``: 4 denoises a little better at ~5x the cost
            of the low-resolution work, 12 clearly worse). The default weights record 4 (v2.4:
            smoothing that follows object edges more closely helps a detector trained on
            normal light, +3-4 points of recovered mAP in the downstream benchmark).
        radius (int): Box radius at that resolution (``scale * (2 radius + 1)`` full-resolution
            pixels per window side). Defaults to 1.
        strength (float): ``sqrt(eps) / sigma`` where the gain is large: structures whose
            (low-resolution) standard deviation is below ``strength * sigma`` are smoothed.
            Defaults to 2.5 (the least that takes the real-photo noise below 0.6x the
            official network's).
        tolerance (float): Amplified noise ``g * sigma`` that may stay, in [0, 1] units.
            Defaults to 2 / 255.
        noise_row_step (int): Every this many rows enter the noise estimate. Defaults to 8.
        black_percentile (float): Percentile (per image and channel, of the pooled image) taken
            as the black level ``k``, which is subtracted, weighted by ``1 - 1 / gain``, and the
            range re-stretched by ``1 / (1 - k)`` (folded into ``a``, ``b``; the result is
            clamped at 0). 0 turns it off. Defaults to 1.
        max_black (float): Cap on the black level, in [0, 1): a dark but flat scene keeps most
            of its level. Defaults to 0.05.
        black_knee (float): The black level's grey part (its least channel) is removed in full
            at ``k`` and fades out linearly up to ``black_knee * k`` (local mean level at the
            coefficients' resolution), so only the shadows move; its colour (``k`` minus the
            grey part) is removed at every level. Defaults to 6.
        detail_radius (int): Radius of the full-resolution box ``x_mid`` (see above); 0: the
            single-scale filter ``a * x + b``. Defaults to 1 (3 x 3 pixels: the fast runtime
            implements 0 and 1).
    """

    #: sqrt(pi / 2) / sqrt(6): mean |second difference| of white noise -> its std. deviation.
    mean_abs_to_sigma = math.sqrt(math.pi / 2) / math.sqrt(6)
    #: Second differences above this many times their mean count as structure, not noise.
    edge_cut = 2.5

    def __init__(self, scale: int = 8, radius: int = 1, strength: float = 2.5,
                 tolerance: float = 2 / 255, noise_row_step: int = 8,
                 black_percentile: float = 1.0, max_black: float = 0.05,
                 black_knee: float = 6.0, detail_radius: int = 1) -> None:
        super().__init__()
        for name, value in (('scale', scale), ('noise_row_step', noise_row_step)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f'{name} must be a positive int, got {value!r}')
        if not (isinstance(radius, int) and radius >= 0):
            raise ValueError(f'radius must be an int >= 0, got {radius!r}')
        if strength < 0 or tolerance < 0:
            raise ValueError(f'strength and tolerance must be >= 0, got {strength!r}, '
                             f'{tolerance!r}')
        self.scale = scale
        self.radius = radius
        self.strength = float(strength)
        self.tolerance = float(tolerance)
        self.noise_row_step = noise_row_step
        if not 0 <= black_percentile <= 100 or not 0 <= max_black < 1:
            raise ValueError(f'black_percentile must be in [0, 100] and max_black in [0, 1), '
                             f'got {black_percentile!r}, {max_black!r}')
        self.black_percentile = float(black_percentile)
        self.max_black = float(max_black)
        if not black_knee > 1:
            raise ValueError(f'black_knee must be > 1, got {black_knee!r}')
        self.black_knee = float(black_knee)
        if not (isinstance(detail_radius, int) and detail_radius >= 0):
            raise ValueError(f'detail_radius must be an int >= 0, got {detail_radius!r}')
        self.detail_radius = detail_radius

    def estimate_noise(self, x: Tensor) -> Tensor:
        """Noise standard deviation of each image and channel, (N, 3, 1, 1), [0, 1] units."""
        rows = x[:, :, ::self.noise_row_step].float()
        # Images narrower than 3 pixels have no second differences: sigma 0 (empty sums). The
        # count is spelled out (not rows[..., :-2]) for the ONNX export, which would otherwise
        # take it as W - 2 also where that is negative.
        count = torch.sym_max(0, rows.shape[-1] - 2)
        second = (rows[..., :count] - 2 * rows[..., 1:count + 1] + rows[..., 2:count + 2]).abs()
        return self.noise_from_differences(second)

    def noise_from_differences(self, second: Tensor) -> Tensor:
        """sigma (N, 3, 1, 1) from absolute second differences (N, 3, ...) (robust mean)."""
        second = second.flatten(2)
        plain = second.mean(dim=2, keepdim=True)
        keep = (second <= self.edge_cut * plain).to(second.dtype)
        robust = (second * keep).sum(dim=2, keepdim=True) / keep.sum(
            dim=2, keepdim=True).clamp(min=1)
        return (robust * self.mean_abs_to_sigma).unsqueeze(-1)

    def pool(self, x: Tensor) -> Tensor:
        """``x`` average-pooled by ``scale`` (partial border cells averaged over what they hold)."""
        x = x.float()
        if self.scale == 1:
            return x
        # Zero-padded to whole cells and divided by each cell's share of real pixels (what
        # ceil_mode pooling does, but exportable to ONNX with dynamic sizes). Padded by
        # scale - 1, not by the remainder: the same cells, and an output size (H + scale - 1)
        # // scale that the export's shape analysis knows to be >= 1.
        pad = (0, self.scale - 1, 0, self.scale - 1)
        sums = F.avg_pool2d(F.pad(x, pad), self.scale)
        inside = F.avg_pool2d(F.pad(torch.ones_like(x[:, :1]), pad), self.scale)
        return sums / inside

    @torch.no_grad()
    def coefficients(self, x_low: Tensor, factor: Tensor, sigma: Tensor,
                     num_iterations: int = 8) -> Tuple[Tensor, Tensor, Tensor]:
        """The maps of ``x' = a * x_mid + c * x + b`` at low resolution.

        Args:
            x_low (Tensor): :meth:`pool` of the image, (N, 3, h, w).
            factor (Tensor): The curve's factor map (N, 3k, h', w') at any resolution (resized
                to h x w, bilinear with aligned corners, like the full-resolution map).
            sigma (Tensor): :meth:`estimate_noise` (N, 3, 1, 1).
            num_iterations (int): The curve's steps (for its gain). Defaults to 8.

        Returns:
            tuple[Tensor, Tensor, Tensor]: ``a``, ``b``, ``c`` (N, 3, h, w); ``x' = a * x_mid +
            c * x + b`` with ``x_mid`` the full-resolution box mean of radius ``detail_radius``
            (``c = 0`` at ``detail_radius = 0``: ``x' = a * x + b``).
        """
        factor = factor.float()
        # The gain is as smooth as the factor map: computed at the map's resolution (at
        # inference the EFE's thumbnail: the curve's steps there cost a fraction of those at
        # x_low's), then resized to x_low's.
        thumb = _resize(x_low, factor)
        gain = _resize(curve_gain(thumb, factor, num_iterations), x_low)
        offset = torch.zeros_like(gain)
        if self.black_percentile > 0:
            # The black level k, removed as far as the curve lifts the pixel (curve_lift: none
            # where the curve is the identity or darkens, i.e. well-lit images), and the range
            # re-stretched: x' = (x - k) / (1 - k), so the darkest pixels stay dark and neutral
            # instead of being lifted to a grey veil with the noise floor's colour. The curve's
            # slope is steepest at 0, so its gain (for eps) is that at the shifted image.
            # The floor's colour (k minus its least channel) goes everywhere, so the lift does
            # not turn it into a cast; its grey part only in the shadows (all of it at the
            # black level, none from black_knee * k up), so the mid-tones (and the image's
            # brightness) keep their level.
            black = self.black_level(x_low)
            grey = black.min(dim=1, keepdim=True).values
            shadow = (1 - thumb / (self.black_knee * black).clamp(min=1e-6)).clamp(min=0)
            thumb_offset = (black - grey + grey * shadow) * curve_lift(thumb, factor,
                                                                       num_iterations)
            offset = _resize(thumb_offset, x_low)
            shifted = ((thumb - thumb_offset) / (1 - thumb_offset)).clamp(min=0)
            gain = _resize(curve_gain(shifted, factor, num_iterations), x_low)
        gain = gain.clamp(min=1e-3)
        # The noise of what ``a`` multiplies: x_mid averages (2 r + 1)**2 pixels.
        smoothed_sigma = sigma / (2 * self.detail_radius + 1)
        eps = self.strength ** 2 * (smoothed_sigma.square() - (self.tolerance / gain).square()
                                    ).clamp(min=0)
        moments = _box(torch.cat([x_low, x_low.square()], dim=1), self.radius)
        mean, mean_square = moments[:, :3], moments[:, 3:]
        var = (mean_square - mean.square()).clamp(min=0)
        a = (var + _TINY) / (var + eps + _TINY)
        if self.detail_radius == 0:
            smoothed = _box(torch.cat([a, (1 - a) * mean], dim=1), self.radius)
            a, b = smoothed[:, :3], smoothed[:, 3:]
            # Folded into the affine map: (a x + b - offset) / (1 - offset).
            return a / (1 - offset), (b - offset) / (1 - offset), torch.zeros_like(a)
        # The share of the finest detail x - x_mid that stays: 1 where its amplified noise
        # g * sigma is below the tolerance, falling with its square above.
        keep = (self.tolerance / (gain * sigma).clamp(min=_TINY)).clamp(max=1).square()
        smoothed = _box(torch.cat([a, (1 - a) * mean, keep], dim=1), self.radius)
        a, b, keep = smoothed[:, :3], smoothed[:, 3:6], smoothed[:, 6:]
        # a x_mid + b + keep (x - x_mid) = (a - keep) x_mid + keep x + b; the black level folded
        # in as above.
        return (a - keep) / (1 - offset), (b - offset) / (1 - offset), keep / (1 - offset)

    def black_level(self, x_low: Tensor) -> Tensor:
        """Per image and channel: the ``black_percentile`` of ``x_low`` (N, 3, 1, 1).

        From the pooled image, where the noise has averaged out, so the percentile is that of
        the scene's darkest parts, not of the noise. Capped at ``max_black``.
        """
        values = x_low.flatten(2)
        # Nearest rank, by a partial selection (topk: ~30x faster than torch.quantile's sort);
        # the rank-th smallest value is the largest of the rank smallest (amax: a size-1 dim
        # also where rank is symbolic, in the ONNX export).
        smallest = values.topk(self.black_rank(values.shape[2]), dim=2, largest=False,
                               sorted=False).values
        return smallest.amax(dim=2, keepdim=True).clamp(max=self.max_black).unsqueeze(-1)

    def black_rank(self, count: Union[int, torch.SymInt]) -> Union[int, torch.SymInt]:
        """1-based nearest rank of ``black_percentile`` among ``count`` values.

        ``floor(black_percentile / 100 * (count - 1)) + 1``, in integer arithmetic with the
        percentile in units of 1e-4 %: ``int()`` of a float computed from a symbolic size
        makes torch.export fix the rank at the example's, so the ONNX export needs it in
        integers. The same ranks as the float64 formula (checked for the percentiles 0.1 to
        100 in common use, up to 2e7 values). The fast CPU runtime takes its rank from here.

        Args:
            count (int | torch.SymInt): Number of values (pooled pixels per channel), >= 1.

        Returns:
            int | torch.SymInt: The rank, in [1, count].
        """
        parts = round(self.black_percentile * 10000)  # of 10 ** 6
        return torch.sym_min(count, (count - 1) * parts // 10 ** 6 + 1)

    def apply_coefficients(self, x: Tensor, a: Tensor, b: Tensor, c: Tensor) -> Tensor:
        """``a * x_mid + c * x + b`` with the maps upsampled to x's size (bilinear, aligned
        corners); ``a * x + b`` at ``detail_radius = 0``.

        Args:
            x (Tensor): (N, 3, H, W) float32, before the curve.
            a, b, c (Tensor): :meth:`coefficients` (N, 3, h, w).

        Returns:
            Tensor: (N, 3, H, W), >= 0.
        """
        # Always resized (an exact copy at equal sizes, i.e. scale 1 or 1-pixel sides): no
        # shape-dependent branch, for the ONNX export.
        a, b = _resize(a, x), _resize(b, x)
        # Clamped: below the black level the map is negative, and the curve runs away there.
        # (Values above 1 are left to the enhancer: SGZEnhancer.curve_input clamps them or
        # rolls them off.)
        if self.detail_radius == 0:
            return torch.addcmul(b, a, x).clamp(min=0)
        smoothed = _box(x, self.detail_radius)
        return torch.addcmul(torch.addcmul(b, a, smoothed), _resize(c, x), x).clamp(min=0)

    def forward(self, x: Tensor, factor: Tensor, num_iterations: int = 8) -> Tensor:
        """Denoise ``x`` for the curve that ``factor`` will apply.

        Args:
            x (Tensor): (N, 3, H, W) RGB in [0, 1], before the curve.
            factor (Tensor): The factor map (N, 3k, h, w), any resolution (low is cheapest).
            num_iterations (int): The curve's steps. Defaults to 8.

        Returns:
            Tensor: (N, 3, H, W), float32.
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f'NoiseAdaptiveGuidedFilter expects (N, 3, H, W) images, got '
                             f'{tuple(x.shape)}')
        if factor.dim() != 4 or factor.shape[0] != x.shape[0] or factor.shape[1] % 3:
            raise ValueError(f'NoiseAdaptiveGuidedFilter: factor must be (N, 3k, h, w) for '
                             f'images {tuple(x.shape)}, got {tuple(factor.shape)}')
        a, b, c = self.coefficients(self.pool(x), factor, self.estimate_noise(x),
                                    num_iterations)
        return self.apply_coefficients(x.float(), a, b, c)
