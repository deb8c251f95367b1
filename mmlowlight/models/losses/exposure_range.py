"""One-sided exposure objective: only patches outside a well-exposed range are penalised.

Zero-DCE's exposure loss pulls every 16x16 patch to one level, which flattens a scene's natural
contrast (bright walls are darkened, shadows lifted to the same grey) and, without an exposure
control, pushes every image, also well-lit ones, toward that level. With
:class:`~mmlowlight.models.enhancers.CurveExposureControl` setting each image's overall level,
the loss only has to keep patches from staying too dark or burning out: a patch whose grey level
lies in ``[low, high]`` costs nothing.
"""
import torch.nn.functional as F
from torch import Tensor

from mmlowlight.registry import MODELS
from .base import BaseEnhanceLoss

__all__ = ['ExposureRangeLoss']


@MODELS.register_module()
class ExposureRangeLoss(BaseEnhanceLoss):
    """Mean squared distance of patch grey levels to the range ``[low, high]`` (0 inside).

    Args:
        patch_size (int): Side of the averaged patches (incomplete border patches dropped; an
            image smaller than a patch counts as one patch). Defaults to 16.
        low (float): Darkest well-exposed patch level. Defaults to 0.2.
        high (float): Brightest well-exposed patch level. Defaults to 0.9.
        loss_weight (float): Defaults to 10.0.
        loss_name (str): Defaults to ``'loss_exposure'``.
    """

    def __init__(self, patch_size: int = 16, low: float = 0.2, high: float = 0.9,
                 loss_weight: float = 10.0, loss_name: str = 'loss_exposure') -> None:
        super().__init__(loss_weight, loss_name)
        if not (isinstance(patch_size, int) and patch_size >= 1):
            raise ValueError(f'patch_size must be a positive int, got {patch_size!r}')
        if not 0 <= low <= high <= 1:
            raise ValueError(f'need 0 <= low <= high <= 1, got low={low!r}, high={high!r}')
        self.patch_size = patch_size
        self.low = low
        self.high = high

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        grey = enhanced.mean(1, keepdim=True)
        kernel = min(self.patch_size, *grey.shape[-2:])
        patches = F.avg_pool2d(grey, kernel)
        outside = (self.low - patches).clamp(min=0) + (patches - self.high).clamp(min=0)
        return outside.square().mean()
