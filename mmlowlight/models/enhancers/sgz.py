"""SGZ enhancer: enhancement factor extraction (EFE) + recurrent image enhancement (RIE).

Zheng & Gupta, "Semantic-Guided Zero-Shot Learning for Low-Light Image/Video Enhancement",
WACV 2022 (arXiv:2110.00970). Official code: github.com/ShenZheng2000/Semantic-Guided-Low-Light-
Image-Enhancement (``model.py``, ``enhance_net_nopool``).

With ``shared_factor=False`` the same class is the curve estimator of Zero-DCE (Guo et al., CVPR
2020): one factor map per RIE step.
"""
from typing import List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmlowlight.registry import MODELS
from .rie_inplace import recurrent_enhance_

CONV_TYPES = ('dsc', 'conv')


class DepthwiseSeparableConv(nn.Module):
    """3x3 depthwise conv followed by a 1x1 pointwise conv (the paper's "DSC" block).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, 3, padding=1, groups=in_channels)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


def _make_block(conv_type: str, in_channels: int, out_channels: int) -> nn.Module:
    if conv_type == 'dsc':
        return DepthwiseSeparableConv(in_channels, out_channels)
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


class FactorExtractor(nn.Module):
    """EFE: a 7-block fully convolutional net with symmetric concatenation skips.

    ``b5 = f(cat(b3, b4))``, ``b6 = f(cat(b2, b5))``, ``b7 = tanh(cat(b1, b6))``; no normalisation
    and no resampling inside.

    Args:
        conv_type (str): ``'dsc'`` (depthwise 3x3 + pointwise 1x1) or ``'conv'`` (plain 3x3).
        channels (int): Width of the hidden blocks. Defaults to 32.
        out_channels (int): Channels of the factor map (3 per RIE step it drives).
    """

    def __init__(self, conv_type: str = 'dsc', channels: int = 32,
                 out_channels: int = 3) -> None:
        super().__init__()
        ins = [3, channels, channels, channels, 2 * channels, 2 * channels, 2 * channels]
        outs = [channels] * 6 + [out_channels]
        self.blocks = nn.ModuleList(
            _make_block(conv_type, i, o) for i, o in zip(ins, outs))

    def forward(self, x: Tensor) -> Tensor:
        """Map an image (N, 3, h, w) to a factor map (N, out_channels, h, w) in [-1, 1]."""
        b = self.blocks
        x1 = F.relu(b[0](x))
        x2 = F.relu(b[1](x1))
        x3 = F.relu(b[2](x2))
        x4 = F.relu(b[3](x3))
        x5 = F.relu(b[4](torch.cat([x3, x4], 1)))
        x6 = F.relu(b[5](torch.cat([x2, x5], 1)))
        return torch.tanh(b[6](torch.cat([x1, x6], 1)))


def recurrent_enhance(x: Tensor, factor: Tensor, num_iterations: int = 8) -> Tensor:
    """RIE: ``num_iterations`` steps of the quadratic curve ``x <- x + r * (x**2 - x)``.

    Args:
        x (Tensor): Image (N, 3, H, W), values in [0, 1].
        factor (Tensor): Factor map r, values in [-1, 1]: (N, 3, H, W) reused by every step
            (SGZ), or (N, 3 * num_iterations, H, W) with one map per step (Zero-DCE).
        num_iterations (int): Number of curve steps.

    Returns:
        Tensor: Enhanced image (N, 3, H, W); stays in [0, 1] when x and r are in range.
    """
    if factor.shape[1] == 3:
        steps = [factor] * num_iterations
    elif factor.shape[1] == 3 * num_iterations:
        steps = list(torch.split(factor, 3, dim=1))
    else:
        raise ValueError(
            f'factor map has {factor.shape[1]} channels; expected 3 or '
            f'3 * num_iterations = {3 * num_iterations}')
    for r in steps:
        x = x + r * (x * x - x)
    return x


@MODELS.register_module()
class SGZEnhancer(BaseModule):
    """The SGZ low-light enhancer (EFE + RIE) of Zheng & Gupta, WACV 2022.

    The EFE estimates a per-pixel, per-channel enhancement factor ``r`` in [-1, 1], optionally on
    the image downscaled by ``scale_factor`` (bilinear, then bilinear with aligned corners back to
    full resolution, as the official code does); the RIE then applies ``num_iterations`` steps of
    ``x <- x + r * (x**2 - x)`` at full resolution, always in float32 (also under autocast).

    Any H, W >= 1 is accepted and the output has the input's size: when H and W are multiples of
    ``scale_factor`` the computation is the official one; otherwise the low-resolution size is
    ``max(1, round(H / scale_factor))`` (likewise W) and the map is resized back to exactly H x W.

    Args:
        conv_type (str): ``'dsc'`` (depthwise-separable blocks, the SGZ default, 10,561
            parameters) or ``'conv'`` (plain 3x3 convolutions). Defaults to ``'dsc'``.
        channels (int): Hidden width of the EFE. Defaults to 32.
        num_iterations (int): RIE steps. Defaults to 8.
        scale_factor (int | float): Downscaling factor of the EFE input; 1 runs it at full
            resolution (training), the official inference uses 12. Defaults to 1.
        shared_factor (bool): True (SGZ) reuses one 3-channel factor map in every step; False
            (Zero-DCE) predicts ``3 * num_iterations`` channels, one map per step.
            Defaults to True.
        exposure_control (dict, optional): Config of a module called as
            ``module(small, factor, num_iterations)`` in :meth:`refine_low_res_factor`, e.g.
            ``dict(type='CurveExposureControl')`` (dark images to a natural level, well-lit
            ones left alone). None (the official network): the factor map as estimated.
        denoiser (dict, optional): Config of a module called as ``module(x, factor_low,
            num_iterations)`` on the input before the curve, e.g.
            ``dict(type='NoiseAdaptiveGuidedFilter')``. None (the official network): no
            denoising. Both are parameter-free, so the weights load with or without them.
        init_cfg (dict | list[dict], optional): Weight initialisation; by default conv weights
            are drawn from N(0, 0.02) as in the official training script.
    """

    def __init__(self,
                 conv_type: str = 'dsc',
                 channels: int = 32,
                 num_iterations: int = 8,
                 scale_factor: Union[int, float] = 1,
                 shared_factor: bool = True,
                 exposure_control: Optional[dict] = None,
                 denoiser: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='Normal', layer='Conv2d', std=0.02)) -> None:
        super().__init__(init_cfg=init_cfg)
        if conv_type not in CONV_TYPES:
            raise ValueError(f'conv_type must be one of {CONV_TYPES}, got {conv_type!r}')
        if not (isinstance(num_iterations, int) and num_iterations >= 1):
            raise ValueError(f'num_iterations must be a positive int, got {num_iterations!r}')
        if not (isinstance(channels, int) and channels >= 1):
            raise ValueError(f'channels must be a positive int, got {channels!r}')
        self.conv_type = conv_type
        self.num_iterations = num_iterations
        self.shared_factor = shared_factor
        self.scale_factor = scale_factor  # validated by the setter
        out_channels = 3 if shared_factor else 3 * num_iterations
        self.efe = FactorExtractor(conv_type, channels, out_channels)
        self.exposure_control = None if exposure_control is None else MODELS.build(
            dict(_scope_='mmlowlight', **exposure_control))
        self.denoiser = None if denoiser is None else MODELS.build(
            dict(_scope_='mmlowlight', **denoiser))

    @property
    def scale_factor(self) -> Union[int, float]:
        """Downscaling factor of the EFE input (>= 1); may be changed after loading weights."""
        return self._scale_factor

    @scale_factor.setter
    def scale_factor(self, value: Union[int, float]) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 1:
            raise ValueError(f'scale_factor must be a number >= 1, got {value!r}')
        self._scale_factor = value

    def refine_low_res_factor(self, small: Tensor, factor: Tensor,
                              light: Optional[Tensor] = None) -> Tensor:
        """Adjust the EFE's factor map at the EFE's resolution, before it is upsampled.

        The identity here. It is the one place where a configured model may change the factor
        map as a function of the (downscaled) image, e.g. to control the exposure; the fast CPU
        runtime (:mod:`mmlowlight.ops`) calls it too, so both paths stay in agreement.

        Args:
            small (Tensor): The EFE's input (N, 3, h, w), RGB in [0, 1].
            factor (Tensor): The EFE's output for it (N, C, h, w) in [-1, 1].
            light (Tensor, optional): :meth:`scene_light` of the full-resolution images (N,),
                passed on to the exposure control where given.

        Returns:
            Tensor: The factor map to upsample (N, C, h, w).
        """
        if self.exposure_control is None:
            return factor
        if light is None:  # a custom exposure control need not take the light weights
            return self.exposure_control(small, factor, self.num_iterations)
        return self.exposure_control(small, factor, self.num_iterations, light=light)

    def refined_factor(self, small: Tensor, light: Optional[Tensor] = None) -> Tensor:
        """The EFE's factor map of ``small`` through :meth:`refine_low_res_factor` (N, C, h, w).

        The light weights are passed only where there are any: an override of
        :meth:`refine_low_res_factor` written before them takes ``(small, factor)``.
        """
        extra = () if light is None else (light,)
        return self.refine_low_res_factor(small, self.efe(small), *extra)

    def scene_light(self, x: Tensor) -> Optional[Tensor]:
        """How much each full-resolution image is lit by its own light sources (N,) in [0, 1]
        (:meth:`CurveExposureControl.light_weight`), where the exposure control has a
        ``light_level``; None otherwise.

        Args:
            x (Tensor): RGB images (N, 3, H, W) in [0, 1].
        """
        if getattr(self.exposure_control, 'light_level', None) is None:
            return None
        with torch.no_grad():
            return self.exposure_control.light_weight(x)

    @property
    def has_input_gain(self) -> bool:
        """Whether the exposure control does part of the lift as a gain before the curve (a
        ``gain_share`` > 0, see :class:`CurveExposureControl`)."""
        return getattr(self.exposure_control, 'gain_share', 0) > 0

    def input_gain(self, small: Tensor, light: Optional[Tensor] = None) -> Optional[Tensor]:
        """The linear gain the exposure control applies before the curve, or None.

        ``g`` (N, 1, 1, 1) from ``exposure_control.input_gain`` where :attr:`has_input_gain`
        (:meth:`curve_input` multiplies the image by it and rolls off the highlights); None
        otherwise (the curve alone).

        Args:
            small (Tensor): The EFE's input (N, 3, h, w), RGB in [0, 1].
            light (Tensor, optional): :meth:`scene_light` of the full-resolution images.

        Returns:
            Tensor | None: (N, 1, 1, 1) gains >= 1, or None.
        """
        if not self.has_input_gain:
            return None
        if light is None:
            return self.exposure_control.input_gain(small)
        return self.exposure_control.input_gain(small, light)

    def curve_input(self, x: Tensor, small: Tensor, factor_low: Tensor,
                    light: Optional[Tensor] = None) -> Tensor:
        """What the curve runs on: ``x`` times the exposure control's gain (where it has a
        ``gain_share``), denoised (where there is a denoiser), its black point taken to 0 (see
        :meth:`CurveExposureControl.black_point`), its highlights rolled off into [0, 1]
        (:meth:`CurveExposureControl.roll_off`; clamped to [0, 1] without a gain).

        The denoiser sees the gained image whole (not clipped), so its statistics are those of
        ``x`` times ``g``, which the fast runtime computes from ``x``'s.

        Args:
            x (Tensor): RGB images (N, 3, H, W) in [0, 1].
            small (Tensor): :meth:`downscale` of ``x``.
            factor_low (Tensor): The refined factor map at ``small``'s resolution.
            light (Tensor, optional): :meth:`scene_light` of ``x``.

        Returns:
            Tensor: (N, 3, H, W) in [0, 1] (``x`` itself without a gain and a denoiser).
        """
        gain = self.input_gain(small, light)
        if gain is not None:
            x = x * gain.to(x.dtype)
        if self.denoiser is not None:
            denoised = self.denoiser(x, factor_low, self.num_iterations)
            if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
                denoised = denoised.contiguous(memory_format=torch.channels_last)
            x = denoised
        if gain is not None:
            control = self.exposure_control
            if light is not None and getattr(control, 'light_black_quantile', None) is not None:
                # The black point after the denoiser, whose noise estimate wants the frame's
                # own floor: d(g x) - g k is d(g (x - k)) for the shift-equivariant filter.
                black = control.black_point(small, light).to(x.dtype)
                x = (x - gain.to(x.dtype) * black) / (1 - black)
            return self.exposure_control.roll_off(x, gain)
        return x.clamp(0, 1) if self.denoiser is not None else x

    def downscale(self, x: Tensor) -> Tensor:
        """The EFE's input: ``x`` resized by ``1 / scale_factor`` (``x`` itself at scale 1).

        When H and W are multiples of ``scale_factor`` this is exactly the official call
        (``F.interpolate(x, scale_factor=1 / s, mode='bilinear')``); otherwise the size is
        ``max(1, round(H / s))`` x ``max(1, round(W / s))``.

        Args:
            x (Tensor): RGB image (N, 3, H, W) in [0, 1].

        Returns:
            Tensor: (N, 3, h, w) in [0, 1].
        """
        height, width = x.shape[-2:]
        s = self.scale_factor
        if s == 1:
            return x
        if height % s == 0 and width % s == 0:
            # Exactly the official call, for bit-parity with the published weights' outputs.
            return F.interpolate(x, scale_factor=1 / s, mode='bilinear')
        size = (max(1, round(height / s)), max(1, round(width / s)))
        return F.interpolate(x, size=size, mode='bilinear')

    def estimate_factor(self, x: Tensor, light: Optional[Tensor] = None) -> Tensor:
        """Run the EFE and return the full-resolution factor map.

        :meth:`downscale` -> ``efe`` -> :meth:`refine_low_res_factor` -> align-corners bilinear
        upsample to H x W.

        Args:
            x (Tensor): RGB image (N, 3, H, W) in [0, 1].
            light (Tensor, optional): Its :meth:`scene_light` if already known.

        Returns:
            Tensor: Factor map (N, C, H, W) in [-1, 1], C = 3 (shared) or 3 * num_iterations.
        """
        small = self.downscale(x)
        if light is None:
            light = self.scene_light(x)
        return self.upsample_factor(self.refined_factor(small, light), x)

    def upsample_factor(self, factor: Tensor, x: Tensor) -> Tensor:
        """The low-resolution factor map (N, C, h, w) resized to x's H x W (bilinear, aligned
        corners), in x's memory layout; returned as is at ``scale_factor=1``."""
        height, width = x.shape[-2:]
        if self.scale_factor == 1:
            return factor
        if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
            # Keep x's layout: CPU bilinear upsampling is ~3x faster on channels-last tensors,
            # and the in-place RIE needs the factor map laid out like the image.
            factor = factor.contiguous(memory_format=torch.channels_last)
        return F.interpolate(
            factor, size=(height, width), mode='bilinear', align_corners=True)

    def forward(self, x: Tensor, light: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Enhance a batch of images.

        Args:
            x (Tensor): RGB images (N, 3, H, W) in [0, 1], any H, W >= 1.
            light (Tensor, optional): The images' :meth:`scene_light` (N,) to use instead of
                their own, e.g. smoothed over a video's frames.

        Returns:
            tuple[Tensor, Tensor]: The enhanced image (N, 3, H, W), float32, in [0, 1] for
            in-range input, and the full-resolution factor map (N, C, H, W) in [-1, 1].
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(
                f'SGZEnhancer expects an (N, 3, H, W) RGB tensor, got shape {tuple(x.shape)}')
        if x.shape[-2] < 1 or x.shape[-1] < 1:
            raise ValueError(f'SGZEnhancer needs H, W >= 1, got shape {tuple(x.shape)}')
        if light is None:
            light = self.scene_light(x)
        if self.denoiser is None and not self.has_input_gain:
            factor = self.estimate_factor(x, light)
        else:
            small = self.downscale(x)
            factor_low = self.refined_factor(small, light)
            factor = self.upsample_factor(factor_low, x)
            x = self.curve_input(x, small, factor_low, light)
        # The curve squares x eight times: half precision loses visible detail, so the RIE
        # always runs in float32, also under autocast.
        with torch.autocast(device_type=x.device.type, enabled=False):
            needs_grad = torch.is_grad_enabled() and (x.requires_grad or factor.requires_grad)
            if needs_grad or not self.shared_factor:
                enhanced = recurrent_enhance(x.float(), factor.float(), self.num_iterations)
            else:
                # Inference: the same curve in place and cache-blocked, bit-identical and about
                # an order of magnitude faster on a CPU (see rie_inplace.py). Channels-last
                # input stays channels-last (CPU resizing is several times faster in it).
                layout = torch.channels_last if x.is_contiguous(
                    memory_format=torch.channels_last) and not x.is_contiguous() \
                    else torch.contiguous_format
                enhanced = recurrent_enhance_(
                    x.to(torch.float32, memory_format=layout, copy=True),
                    factor.to(torch.float32).contiguous(memory_format=layout),
                    self.num_iterations)
        return enhanced, factor
