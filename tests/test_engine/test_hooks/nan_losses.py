"""A registered loss that turns non-finite on a chosen call, to test the NaN guard.

Importable by ``custom_imports`` in a ``tools/train.py`` run (``tests.test_engine.test_hooks.
nan_losses``). ``kind='value'`` returns NaN; ``kind='gradient'`` returns a finite 0 whose
gradient is NaN (``sqrt`` at 0, the bug the colour-constancy loss had).
"""
import torch
from torch import Tensor

from mmlowlight.models.losses import BaseEnhanceLoss
from mmlowlight.registry import MODELS


@MODELS.register_module(force=True)
class NonFiniteAtCallLossForTests(BaseEnhanceLoss):
    """Zero (with a zero gradient) on the first ``at_call - 1`` training calls, then broken.

    Args:
        at_call (int): The first call (counted in grad mode, from 1) that is non-finite.
        kind (str): ``'value'`` or ``'gradient'``.
        loss_name (str): Defaults to ``'loss_injected'``.
    """

    def __init__(self, at_call: int = 3, kind: str = 'value',
                 loss_name: str = 'loss_injected') -> None:
        super().__init__(loss_weight=1.0, loss_name=loss_name)
        if kind not in ('value', 'gradient'):
            raise ValueError(f'kind must be "value" or "gradient", got {kind!r}')
        self.at_call = at_call
        self.kind = kind
        self.calls = 0

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        if torch.is_grad_enabled():
            self.calls += 1
        if self.calls < self.at_call:
            return (enhanced * 0).sum()
        if self.kind == 'value':
            return enhanced.mean() * float('nan')
        return (enhanced - enhanced.detach()).square().sum().sqrt()
