"""MobileNetV1 (width 0.25) as a bottom-up path of the FPN guide, with ImageNet weights.

The layout is that of the ImageNet classifier in ``../shared/data/pretrained/
mobilenetv1_x0.25_imagenet.tar`` (the backbone of biubug6/Pytorch_Retinaface, ``models/net.py``,
``MobileNetV1``), module for module, so its ``state_dict`` keys are the file's without the
``module.`` prefix (which mmengine's ``load_checkpoint`` strips by default):

- ``conv_bn``: Conv3x3 (no bias) + BatchNorm + LeakyReLU(0.1) (``Sequential`` indices 0, 1, 2);
- ``conv_dw``: depthwise Conv3x3 + BN + LeakyReLU(0.1), pointwise Conv1x1 + BN + LeakyReLU(0.1)
  (indices 0-2 and 3-5);
- ``stage1`` 3 -> 64 (stride 8), ``stage2`` 64 -> 128 (stride 16), ``stage3`` 128 -> 256
  (stride 32); the classifier (global average pool, ``fc`` 256 -> 1000) is not part of it.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmlowlight.registry import MODELS
from .batchnorm_folding import conv_bn_folded

#: The local ImageNet weights of this layout (relative to a worktree of this repository); pass as
#: ``init_cfg=dict(type='Pretrained', checkpoint=MOBILENETV1_X025_IMAGENET)``.
MOBILENETV1_X025_IMAGENET = '../shared/data/pretrained/mobilenetv1_x0.25_imagenet.tar'

NEGATIVE_SLOPE = 0.1  # the checkpoint was trained with LeakyReLU(0.1); plain ReLU breaks it

# (in_channels, out_channels, stride) of each stage's blocks; the first block of stage1 is a
# full 3x3 conv (conv_bn), every other block a depthwise-separable one (conv_dw).
STAGES = (
    ((3, 8, 2), (8, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1)),
    ((64, 128, 2), ) + ((128, 128, 1), ) * 5,
    ((128, 256, 2), (256, 256, 1)),
)
#: (stage index, block index) after which each output level is taken, and its channels:
#: stride 4 after stage1's 4th block, then the ends of stage1, stage2, stage3 (strides 8-32).
OUTPUT_POINTS = ((0, 3), (0, 5), (1, 5), (2, 1))
OUT_CHANNELS = (32, 64, 128, 256)


def _conv_bn(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False),
        nn.BatchNorm2d(out_channels), nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True))


def _conv_dw(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
        nn.BatchNorm2d(in_channels), nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True),
        nn.Conv2d(in_channels, out_channels, 1, 1, 0, bias=False),
        nn.BatchNorm2d(out_channels), nn.LeakyReLU(NEGATIVE_SLOPE, inplace=True))


def _block_folded(block: nn.Sequential, x: Tensor) -> Tensor:
    """A conv_bn / conv_dw block with each BatchNorm folded into the conv before it."""
    for index in range(0, len(block), 3):
        x = F.leaky_relu(conv_bn_folded(x, block[index], block[index + 1]), NEGATIVE_SLOPE,
                         inplace=True)
    return x


@MODELS.register_module()
class MobileNetV1(BaseModule):
    """MobileNetV1 x0.25 bottom-up path: features at strides 4, 8, 16 and 32.

    The network's first stage already ends at stride 8 (its blocks have strides 2, 1, 2, 1, 2,
    1), so the stride-4 level C2 is taken inside ``stage1``, after its fourth block (32 channels,
    the last block before the third stride-2 convolution). C3 is the end of ``stage1`` (64
    channels), C4 of ``stage2`` (128), C5 of ``stage3`` (256).

    Args:
        fold_batchnorm (bool): In eval mode, fold each BatchNorm into the convolution before it,
            computed from the stored weights at every forward (they stay as loaded). Train mode
            always runs the BatchNorm layers. Defaults to True.
        init_cfg (dict | list[dict], optional): e.g. ``dict(type='Pretrained',
            checkpoint=MOBILENETV1_X025_IMAGENET)`` (the file's ``fc.*`` keys are reported as
            unexpected and ignored). None keeps PyTorch's default init. Defaults to None.

    Attributes:
        out_channels (tuple[int]): Channels of the four outputs, ``(32, 64, 128, 256)``.
    """

    out_channels = OUT_CHANNELS

    def __init__(self, fold_batchnorm: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for stage_index, blocks in enumerate(STAGES):
            layers = [(_conv_bn if (stage_index, block_index) == (0, 0) else _conv_dw)(*block)
                      for block_index, block in enumerate(blocks)]
            self.add_module(f'stage{stage_index + 1}', nn.Sequential(*layers))
        self.fold_batchnorm = fold_batchnorm

    @property
    def stages(self) -> Sequence[nn.Sequential]:
        return (self.stage1, self.stage2, self.stage3)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Map a normalised image to its four feature levels.

        Args:
            x (Tensor): (N, 3, H, W), RGB normalised with ImageNet mean/std.

        Returns:
            tuple[Tensor]: C2..C5 with ``OUT_CHANNELS`` channels at strides 4, 8, 16, 32
            (sizes ``ceil(H / s)``).
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f'MobileNetV1 expects (N, 3, H, W) images, got shape '
                             f'{tuple(x.shape)}')
        folded = self.fold_batchnorm and not self.training
        outputs = []
        for stage_index, stage in enumerate(self.stages):
            for block_index, block in enumerate(stage):
                x = _block_folded(block, x) if folded else block(x)
                if (stage_index, block_index) in OUTPUT_POINTS:
                    outputs.append(x)
        return tuple(outputs)


@MODELS.register_module()
class MobileNetV1DenseClassifier(MobileNetV1):
    """The whole ImageNet classifier as a guide: MobileNetV1 + its ``fc`` on every C5 pixel.

    The checkpoint's classifier (global average pool, then ``fc`` 256 -> 1000) is linear after
    the pool, so applying ``fc`` at each stride-32 position gives per-location ImageNet logits
    whose spatial mean is the classifier's own output. Unlike an FPN guide with a freshly
    initialised head, every weight here is pretrained, so the pseudo-labels are ImageNet's.
    The module names (``stage1..3``, ``fc``) are the checkpoint's, so ``init_cfg=dict(
    type='Pretrained', checkpoint=MOBILENETV1_X025_IMAGENET)`` loads every key.

    Args:
        mean (Sequence[float]): Per-channel mean of the RGB [0, 1] input the classifier was
            trained on. Defaults to ImageNet's.
        std (Sequence[float]): Per-channel std, likewise.
        num_classes (int): Classifier outputs. Defaults to 1000 (ImageNet-1k).
        fold_batchnorm (bool): See :class:`MobileNetV1`. Defaults to True.
        init_cfg (dict | list[dict], optional): See :class:`MobileNetV1`. Defaults to None.
    """

    def __init__(self, mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225), num_classes: int = 1000,
                 fold_batchnorm: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(fold_batchnorm=fold_batchnorm, init_cfg=init_cfg)
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'mean and std need 3 values (RGB), got {mean} and {std}')
        self.fc = nn.Linear(OUT_CHANNELS[-1], num_classes)
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor) -> Tensor:  # type: ignore[override]
        """Classify every stride-32 location of RGB images.

        Args:
            images (Tensor): (N, 3, H, W) RGB in [0, 1].

        Returns:
            Tensor: Logits (N, num_classes, ceil(H / 32), ceil(W / 32)).
        """
        c5 = super().forward((images - self.mean) / self.std)[3]
        return F.linear(c5.permute(0, 2, 3, 1), self.fc.weight, self.fc.bias).permute(0, 3, 1, 2)
