"""Zero-reference losses of Zero-DCE (Guo et al., CVPR 2020) in the form SGZ trains with.

The defaults follow the official SGZ code (``Myloss.py`` and ``train.py`` of
github.com/ShenZheng2000/Semantic-Guided-Low-Light-Image-Enhancement): spatial consistency with
diagonal neighbours (``L_spa8``, 4x4 patches, weight 1), colour constancy (``L_color``, weight 5),
exposure (``L_exp``, 16x16 patches, level 0.6, weight 10) and total variation of the factor map
(``L_TV``, weight 1600). The computations are fused where that keeps the math: linear steps
(channel mean, pooling, neighbour differences) are applied once to ``enhanced - original``
instead of to both images, and the eight neighbour differences are one depthwise convolution.

Every loss gives finite values and gradients for any batch, constant images included (all
black, all white, grey, one colour): the official colour loss takes ``sqrt`` of zero there,
whose infinite derivative times zero made NaN gradients and NaN weights at the first step.
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmlowlight.registry import MODELS
from .base import BaseEnhanceLoss

#: Offsets (dy, dx) of the neighbours compared by the spatial consistency loss: the four direct
#: ones (left, right, up, down), then the four diagonal ones.
NEIGHBOUR_OFFSETS: Tuple[Tuple[int, int], ...] = (
    (0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _check_min_size(loss: BaseEnhanceLoss, images: Tensor, size: int) -> None:
    if images.shape[-2] < size or images.shape[-1] < size:
        raise ValueError(f'{type(loss).__name__} needs images of at least {size}x{size} '
                         f'pixels, got shape {tuple(images.shape)}')


def sqrt_zero_safe(x: Tensor) -> Tensor:
    """``x.sqrt()`` for ``x >= 0`` whose gradient at 0 is 0 instead of infinite.

    The values are bit-identical to ``x.sqrt()``. Where ``x == 0`` the chain rule would
    multiply the infinite derivative of ``sqrt`` by the zero derivative of ``x`` and give NaN;
    0 is the right (sub)gradient for the losses here, which are ``sqrt`` of sums of even
    powers (``sqrt(d ** 4)`` is ``d ** 2``, ``sqrt(d ** 2)`` is ``|d|``). The inner ``where``
    keeps the discarded branch finite, which autograd needs as well.
    """
    positive = x > 0
    root = torch.where(positive, x, torch.ones_like(x)).sqrt()
    return torch.where(positive, root, torch.zeros_like(x))


@MODELS.register_module()
class SpatialConsistencyLoss(BaseEnhanceLoss):
    """Spatial consistency: keep the contrast between neighbouring regions of the input.

    Both images are reduced to their channel mean and averaged over ``patch_size`` patches
    (incomplete border patches dropped, as ``nn.AvgPool2d`` does). For each patch the difference
    to each of its 8 neighbours is taken in both images (zero outside the image, like the
    official zero-padded convolutions); the loss is the mean over patches of the squared
    enhanced-vs-input discrepancies, direct neighbours weighted 1, diagonal ones
    ``diagonal_weight``.

    Args:
        patch_size (int): Side of the averaged patches. Defaults to 4.
        diagonal_weight (float): Weight of the diagonal neighbours; 0 gives Zero-DCE's original
            4-neighbour loss. Defaults to 0.5.
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to ``'loss_spatial'``.
    """

    def __init__(self, patch_size: int = 4, diagonal_weight: float = 0.5,
                 loss_weight: float = 1.0, loss_name: str = 'loss_spatial') -> None:
        super().__init__(loss_weight, loss_name)
        if not (isinstance(patch_size, int) and patch_size >= 1):
            raise ValueError(f'patch_size must be a positive int, got {patch_size!r}')
        if diagonal_weight < 0:
            raise ValueError(f'diagonal_weight must be >= 0, got {diagonal_weight!r}')
        self.patch_size = patch_size
        # One 3x3 kernel per neighbour: centre minus neighbour, scaled by sqrt(weight) so that
        # squaring the response applies the weight.
        kernels = torch.zeros(len(NEIGHBOUR_OFFSETS), 1, 3, 3)
        for k, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
            scale = math.sqrt(1.0 if dy == 0 or dx == 0 else diagonal_weight)
            kernels[k, 0, 1, 1] = scale
            kernels[k, 0, 1 + dy, 1 + dx] = -scale
        self.register_buffer('kernels', kernels, persistent=False)

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        _check_min_size(self, enhanced, self.patch_size)
        # Pooling and the neighbour differences are linear, so they act on the difference.
        patches = F.avg_pool2d((enhanced - original).mean(1, keepdim=True), self.patch_size)
        differences = F.conv2d(patches, self.kernels.to(patches.dtype), padding=1)
        return differences.square().sum(1).mean()


@MODELS.register_module()
class ColorConstancyLoss(BaseEnhanceLoss):
    """Colour constancy (grey-world): the channel means of the enhanced image should agree.

    With the per-image channel means ``J_r, J_g, J_b`` and the pairs (r, g), (r, b), (g, b):

    - ``mode='code'`` (default, the official ``L_color``):
      ``sqrt(sum_pairs ((J_p - J_q) ** 2) ** 2)``, averaged over the batch;
    - ``mode='charbonnier'`` (the paper's Charbonnier form):
      ``sum_pairs sqrt((J_p - J_q) ** 2 + eps ** 2)``, averaged over the batch.

    Args:
        mode (str): ``'code'`` or ``'charbonnier'``. Defaults to ``'code'``.
        eps (float): Charbonnier epsilon (``mode='charbonnier'`` only). Defaults to 1e-6.
        loss_weight (float): Defaults to 5.0.
        loss_name (str): Defaults to ``'loss_color'``.
    """

    MODES = ('code', 'charbonnier')

    def __init__(self, mode: str = 'code', eps: float = 1e-6, loss_weight: float = 5.0,
                 loss_name: str = 'loss_color') -> None:
        super().__init__(loss_weight, loss_name)
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got {mode!r}')
        if eps < 0:
            raise ValueError(f'eps must be >= 0, got {eps!r}')
        self.mode = mode
        self.eps = eps

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        if enhanced.shape[1] != 3:
            raise ValueError(f'ColorConstancyLoss needs RGB images, got shape '
                             f'{tuple(enhanced.shape)}')
        means = enhanced.mean((2, 3))  # (N, 3)
        # The three channel pairs (r, g), (r, b), (g, b) at once.
        pair_diffs = means[:, [0, 0, 1]] - means[:, [1, 2, 2]]
        squared = pair_diffs.square()
        if self.mode == 'code':
            return sqrt_zero_safe(squared.square().sum(1)).mean()
        return sqrt_zero_safe(squared + self.eps**2).sum(1).mean()


@MODELS.register_module()
class ExposureLoss(BaseEnhanceLoss):
    """Exposure control: mean squared distance of patch brightness to a well-exposed level.

    The channel mean of the enhanced image is averaged over ``patch_size`` patches (incomplete
    border patches dropped) and compared with ``level``.

    Args:
        patch_size (int): Side of the patches. Defaults to 16.
        level (float): Well-exposedness level E in [0, 1]. Defaults to 0.6.
        loss_weight (float): Defaults to 10.0.
        loss_name (str): Defaults to ``'loss_exposure'``.
    """

    def __init__(self, patch_size: int = 16, level: float = 0.6, loss_weight: float = 10.0,
                 loss_name: str = 'loss_exposure') -> None:
        super().__init__(loss_weight, loss_name)
        if not (isinstance(patch_size, int) and patch_size >= 1):
            raise ValueError(f'patch_size must be a positive int, got {patch_size!r}')
        if not 0 <= level <= 1:
            raise ValueError(f'level must be in [0, 1], got {level!r}')
        self.patch_size = patch_size
        self.level = level

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        _check_min_size(self, enhanced, self.patch_size)
        patches = F.avg_pool2d(enhanced.mean(1, keepdim=True), self.patch_size)
        return (patches - self.level).square().mean()


@MODELS.register_module()
class IlluminationSmoothnessLoss(BaseEnhanceLoss):
    """Illumination smoothness: total variation of the enhancement factor map.

    The official ``L_TV``: ``2 * (sum(dy ** 2) / ((H - 1) * W) + sum(dx ** 2) / (H * (W - 1)))
    / N``, where the sums run over the batch and all channels of the factor map.

    Args:
        loss_weight (float): Defaults to 1600.0.
        loss_name (str): Defaults to ``'loss_smooth'``.
    """

    def __init__(self, loss_weight: float = 1600.0, loss_name: str = 'loss_smooth') -> None:
        super().__init__(loss_weight, loss_name)

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        _check_min_size(self, factor, 2)
        num, _, height, width = factor.shape
        vertical = (factor[:, :, 1:] - factor[:, :, :-1]).square().sum()
        horizontal = (factor[:, :, :, 1:] - factor[:, :, :, :-1]).square().sum()
        return 2 * (vertical / ((height - 1) * width) + horizontal / (height * (width - 1))) / num
