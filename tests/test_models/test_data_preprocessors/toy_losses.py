"""A tiny registered loss with the aux-loss contract, for tests of the low-light preprocessors."""
import torch
from torch import Tensor, nn

from mmlowlight.registry import MODELS


@MODELS.register_module(name='ToyBrightnessLossForTests', force=True)
class ToyBrightnessLoss(nn.Module):
    """Per-image squared distance of the mean brightness to 0.6, averaged over the batch."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    @property
    def loss_name(self) -> str:
        return 'loss_toy_brightness'

    def forward(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        assert enhanced.shape == original.shape and factor.shape[-2:] == enhanced.shape[-2:]
        per_image = (enhanced.mean(dim=(1, 2, 3)) - 0.6)**2
        return self.loss_weight * per_image.mean() + 0 * torch.zeros(())
