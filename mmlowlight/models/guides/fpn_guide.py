"""The SGZ semantic guide: a ResNet bottom-up path with an FPN top-down path and a classifier.

Zheng & Gupta, WACV 2022, Sec. 3.3 (USS): the frozen network segments the enhanced image; its own
argmax is the pseudo-label of the semantic loss. Layout of the official ``modeling/fpn.py``:
lateral 1x1 convs into a 256-channel top-down path (bilinear upsampling, addition), two 3x3
smoothing convs per level (256 -> 256 -> 128, no activation), the four levels upsampled to the
stride-4 level and concatenated, a 3x3 classifier; top-down layers drawn from N(0, 0.01).
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.resnet import Bottleneck, ResNet, make_res_layer
from mmengine.model import BaseModule
from torch import Tensor

from mmlowlight.registry import MODELS
from .batchnorm_folding import conv_bn_folded

#: torchvision's ImageNet ResNet-50 weights; pass as ``init_cfg=dict(type='Pretrained',
#: checkpoint=TORCHVISION_RESNET50_URL)`` (the ``torchvision://`` scheme needs torchvision).
TORCHVISION_RESNET50_URL = 'https://download.pytorch.org/models/resnet50-0676ba61.pth'

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _conv_bn(x: Tensor, conv: nn.Conv2d, bn: nn.BatchNorm2d, relu: bool) -> Tensor:
    """``conv`` then eval-mode ``bn`` (then ReLU) as one convolution with BN folded in."""
    out = conv_bn_folded(x, conv, bn)
    return F.relu(out, inplace=True) if relu else out


def _residual_block_folded(block: nn.Module, x: Tensor) -> Tensor:
    """mmcv's Bottleneck / BasicBlock forward with every BatchNorm folded into its conv."""
    if isinstance(block, Bottleneck):
        out = _conv_bn(x, block.conv1, block.bn1, relu=True)
        out = _conv_bn(out, block.conv2, block.bn2, relu=True)
        out = _conv_bn(out, block.conv3, block.bn3, relu=False)
    else:
        out = _conv_bn(x, block.conv1, block.bn1, relu=True)
        out = _conv_bn(out, block.conv2, block.bn2, relu=False)
    identity = x if block.downsample is None else _conv_bn(
        x, block.downsample[0], block.downsample[1], relu=False)
    out += identity  # in place: a fresh full-size tensor costs page faults on CPU
    return F.relu(out, inplace=True)


class FPNTopDown(BaseModule):
    """FPN top-down path, per-level smoothing, concatenation and the pixel classifier.

    Args:
        in_channels (Sequence[int]): Channels of the bottom-up features C2..C5.
        num_classes (int): Classes of the classifier.
        channels (int): Width of the top-down path. Defaults to 256.
        smooth_channels (int): Output width of each level's second smoothing conv.
            Defaults to 128.
        init_cfg (dict | list[dict], optional): Defaults to the paper's N(0, 0.01), bias 0.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 num_classes: int,
                 channels: int = 256,
                 smooth_channels: int = 128,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='Normal', layer='Conv2d', mean=0, std=0.01, bias=0)) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 4:
            raise ValueError(f'FPNTopDown needs 4 input levels, got in_channels={in_channels}')
        # lateral_convs[i] maps C(i+2); the coarsest one is the official "toplayer".
        self.lateral_convs = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.smooth_convs = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(channels, channels, 3, padding=1),
                nn.Conv2d(channels, smooth_channels, 3, padding=1)) for _ in in_channels)
        self.classifier = nn.Conv2d(4 * smooth_channels, num_classes, 3, padding=1)

    def forward(self, features: Sequence[Tensor]) -> Tensor:
        """Map C2..C5 (strides 4..32) to class logits at the stride of C2."""
        top = self.lateral_convs[3](features[3])
        levels = [top]
        for level in (2, 1, 0):
            lateral = self.lateral_convs[level](features[level])
            top = F.interpolate(top, size=lateral.shape[-2:], mode='bilinear') + lateral
            levels.append(top)
        size = levels[-1].shape[-2:]
        smoothed = [
            smooth(p) for smooth, p in zip(self.smooth_convs, levels[::-1])]  # P2..P5
        upsampled = [smoothed[0]] + [
            F.interpolate(p, size=size, mode='bilinear') for p in smoothed[1:]]
        # The official order of concatenation is P5, P4, P3, P2.
        return self.classifier(torch.cat(upsampled[::-1], dim=1))


@MODELS.register_module()
class FPNSegmentationGuide(BaseModule):
    """ResNet (or another backbone) + FPN segmentation net: the SGZ guide (21 VOC classes).

    The bottom-up path is built from mmcv's ResNet blocks with torchvision's module names
    (``conv1``, ``bn1``, ``layer1.0.downsample.0`` ...) at the top level of this module, so
    ``init_cfg=dict(type='Pretrained', checkpoint=TORCHVISION_RESNET50_URL)`` loads torchvision's
    ImageNet weights into it directly (the unused ``fc.*`` keys and the top-down keys, which keep
    their N(0, 0.01) init, are reported by mmengine as unexpected/missing).

    With ``backbone`` set, that registered module (e.g. ``dict(type='MobileNetV1',
    init_cfg=dict(type='Pretrained', checkpoint=MOBILENETV1_X025_IMAGENET))``) replaces the
    ResNet as ``self.backbone``: it maps the normalised image to four levels at strides 4, 8, 16,
    32 and names their widths in its ``out_channels`` attribute; the guide's ``fold_batchnorm``
    is passed to it.

    Args:
        depth (int): ResNet depth, one of 18, 34, 50, 101, 152; unused with ``backbone``.
            Defaults to 50 (the paper's).
        num_classes (int): Output classes. Defaults to 21.
        channels (int): Width of the top-down path. Defaults to 256.
        smooth_channels (int): Per-level width after smoothing. Defaults to 128.
        mean (Sequence[float]): Per-channel mean of the RGB [0, 1] input the backbone was trained
            on. Defaults to ImageNet's.
        std (Sequence[float]): Per-channel std, likewise.
        channels_last (bool): Run the convolutions in NHWC memory format, which oneDNN executes
            faster on CPUs (the logits are the same). Defaults to True.
        fold_batchnorm (bool): In eval mode (the frozen guide), fold each BatchNorm into the
            convolution before it, computed from the current weights at every forward: the same
            function, without BatchNorm's passes over the activations in the forward and the
            backward (about a quarter of the guide's time on CPU). Train mode always runs the
            BatchNorm layers. Defaults to True.
        backbone (dict, optional): Config of a bottom-up path to use instead of the ResNet.
            Defaults to None (the ResNet of ``depth``).
        init_cfg (dict | list[dict], optional): Initialisation of the whole net, typically
            ``dict(type='Pretrained', checkpoint=TORCHVISION_RESNET50_URL)``. None keeps
            PyTorch's default init for the backbone. Defaults to None.
    """

    def __init__(self,
                 depth: int = 50,
                 num_classes: int = 21,
                 channels: int = 256,
                 smooth_channels: int = 128,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 channels_last: bool = True,
                 fold_batchnorm: bool = True,
                 backbone: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if backbone is None and depth not in ResNet.arch_settings:
            raise ValueError(
                f'depth must be one of {sorted(ResNet.arch_settings)}, got {depth!r}')
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'mean and std need 3 values (RGB), got {mean} and {std}')
        if backbone is None:
            self.backbone = None
            stage_channels = self._build_resnet(depth)
        else:
            backbone = copy.deepcopy(dict(backbone))
            backbone.setdefault('_scope_', 'mmlowlight')
            backbone.setdefault('fold_batchnorm', fold_batchnorm)
            self.backbone = MODELS.build(backbone)
            stage_channels = list(self.backbone.out_channels)
        self.top_down = FPNTopDown(stage_channels, num_classes, channels, smooth_channels)
        self.num_classes = num_classes
        self.channels_last = channels_last
        self.fold_batchnorm = fold_batchnorm
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    @property
    def fold_batchnorm(self) -> bool:
        """Whether eval mode folds BatchNorm into the convolutions (also in ``backbone``)."""
        return self._fold_batchnorm

    @fold_batchnorm.setter
    def fold_batchnorm(self, value: bool) -> None:
        self._fold_batchnorm = bool(value)
        if getattr(self, 'backbone', None) is not None:
            self.backbone.fold_batchnorm = self._fold_batchnorm

    def _build_resnet(self, depth: int) -> List[int]:
        """Add torchvision's ResNet stem and stages to this module; returns C2..C5 widths."""
        block, stage_blocks = ResNet.arch_settings[depth]
        # The stem and stages of torchvision's ResNet ("pytorch" style: stride on the 3x3 conv).
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        in_channels, stage_channels = 64, []
        for i, num_blocks in enumerate(stage_blocks):
            planes = 64 * 2**i
            self.add_module(
                f'layer{i + 1}',
                make_res_layer(block, in_channels, planes, num_blocks, stride=1 if i == 0 else 2))
            in_channels = planes * block.expansion
            stage_channels.append(in_channels)
        return stage_channels

    def extract_features(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Bottom-up path: normalised image -> C2..C5 (strides 4, 8, 16, 32)."""
        if self.backbone is not None:
            return tuple(self.backbone(x))
        if self.training or not self.fold_batchnorm:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            c2 = self.layer1(x)
            c3 = self.layer2(c2)
            c4 = self.layer3(c3)
            return c2, c3, c4, self.layer4(c4)
        x = self.maxpool(_conv_bn(x, self.conv1, self.bn1, relu=True))
        features = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in layer:
                x = _residual_block_folded(block, x)
            features.append(x)
        return tuple(features)

    def forward(self, images: Tensor) -> Tensor:
        """Segment RGB images.

        Args:
            images (Tensor): (N, 3, H, W) RGB in [0, 1].

        Returns:
            Tensor: Class logits (N, num_classes, ceil(H / 4), ceil(W / 4)) (the stride-4 level).
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'FPNSegmentationGuide expects (N, 3, H, W) RGB images, got shape '
                             f'{tuple(images.shape)}')
        x = (images - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.top_down(self.extract_features(x))
