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

Parameter-free (nothing to train), plain torch: it runs in training graphs (the coefficients are
constants there: they are computed without gradient), inside the downstream preprocessors, on GPU
and in the ONNX export.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmlowlight.registry import MODELS

__all__ = ['NoiseAdaptiveGuidedFilter', 'curve_gain']

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


def _resize(x: Tensor, size) -> Tensor:
    # Also at equal sizes (an exact copy then): no shape-dependent branch, for the ONNX export.
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=True)


@MODELS.register_module()
class NoiseAdaptiveGuidedFilter(BaseModule):
    """Dark-domain denoising whose strength follows the noise and the curve's gain.

    Args:
        scale (int): Downscale of the coefficient statistics. Defaults to 8 (chosen by
            ``tools/analysis/compare_denoisers.py``: 4 denoises a little better at ~5x the cost
            of the low-resolution work, 12 clearly worse).
        radius (int): Box radius at that resolution (``scale * (2 radius + 1)`` full-resolution
            pixels per window side). Defaults to 1.
        strength (float): ``sqrt(eps) / sigma`` where the gain is large: structures whose
            (low-resolution) standard deviation is below ``strength * sigma`` are smoothed.
            Defaults to 2.5 (the least that takes the real-photo noise below 0.6x the
            official network's).
        tolerance (float): Amplified noise ``g * sigma`` that may stay, in [0, 1] units.
            Defaults to 2 / 255.
        noise_row_step (int): Every this many rows enter the noise estimate. Defaults to 8.
    """

    #: sqrt(pi / 2) / sqrt(6): mean |second difference| of white noise -> its std. deviation.
    mean_abs_to_sigma = math.sqrt(math.pi / 2) / math.sqrt(6)
    #: Second differences above this many times their mean count as structure, not noise.
    edge_cut = 2.5

    def __init__(self, scale: int = 8, radius: int = 1, strength: float = 2.5,
                 tolerance: float = 2 / 255, noise_row_step: int = 8) -> None:
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

    def estimate_noise(self, x: Tensor) -> Tensor:
        """Noise standard deviation of each image and channel, (N, 3, 1, 1), [0, 1] units."""
        rows = x[:, :, ::self.noise_row_step].float()
        # Images narrower than 3 pixels have no second differences: sigma 0 (empty sums).
        second = (rows[..., :-2] - 2 * rows[..., 1:-1] + rows[..., 2:]).abs()
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
        # ceil_mode pooling does, but exportable to ONNX with dynamic sizes).
        pad = (0, (-x.shape[-1]) % self.scale, 0, (-x.shape[-2]) % self.scale)
        sums = F.avg_pool2d(F.pad(x, pad), self.scale)
        inside = F.avg_pool2d(F.pad(torch.ones_like(x[:, :1]), pad), self.scale)
        return sums / inside

    @torch.no_grad()
    def coefficients(self, x_low: Tensor, factor: Tensor, sigma: Tensor,
                     num_iterations: int = 8) -> Tuple[Tensor, Tensor]:
        """The affine maps at low resolution.

        Args:
            x_low (Tensor): :meth:`pool` of the image, (N, 3, h, w).
            factor (Tensor): The curve's factor map (N, 3k, h', w') at any resolution (resized
                to h x w, bilinear with aligned corners, like the full-resolution map).
            sigma (Tensor): :meth:`estimate_noise` (N, 3, 1, 1).
            num_iterations (int): The curve's steps (for its gain). Defaults to 8.

        Returns:
            tuple[Tensor, Tensor]: ``a``, ``b`` (N, 3, h, w); ``x' = a * x + b``.
        """
        factor = factor.float()
        # The gain is as smooth as the factor map: computed at the map's resolution (at
        # inference the EFE's thumbnail: the curve's steps there cost a fraction of those at
        # x_low's), then resized to x_low's.
        gain = _resize(curve_gain(_resize(x_low, factor.shape[-2:]), factor, num_iterations),
                       x_low.shape[-2:])
        eps = self.strength ** 2 * (sigma.square() - (self.tolerance / gain.clamp(min=1e-3))
                                    .square()).clamp(min=0)
        moments = _box(torch.cat([x_low, x_low.square()], dim=1), self.radius)
        mean, mean_square = moments[:, :3], moments[:, 3:]
        var = (mean_square - mean.square()).clamp(min=0)
        a = (var + _TINY) / (var + eps + _TINY)
        smoothed = _box(torch.cat([a, (1 - a) * mean], dim=1), self.radius)
        return smoothed[:, :3], smoothed[:, 3:]

    @staticmethod
    def apply_coefficients(x: Tensor, a: Tensor, b: Tensor) -> Tensor:
        """``a * x + b`` with ``a``, ``b`` upsampled to x's size (bilinear, aligned corners)."""
        size = x.shape[-2:]
        if a.shape[-2:] != size:
            a = F.interpolate(a, size=size, mode='bilinear', align_corners=True)
            b = F.interpolate(b, size=size, mode='bilinear', align_corners=True)
        return torch.addcmul(b, a, x)

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
        a, b = self.coefficients(self.pool(x), factor, self.estimate_noise(x), num_iterations)
        return self.apply_coefficients(x.float(), a, b)
