"""Common interface of the enhancement losses: ``loss(enhanced, original, factor)``."""
from abc import abstractmethod
from typing import List, Optional, Union

from mmengine.model import BaseModule
from torch import Tensor


class BaseEnhanceLoss(BaseModule):
    """Base class of the zero-shot enhancement losses.

    Every loss is called as ``loss(enhanced, original, factor)`` and returns a scalar already
    multiplied by ``loss_weight``; :attr:`loss_name` is its key in loss dicts. Subclasses
    implement :meth:`compute` (the unweighted loss). A BaseModule, so that ``init_weights``
    reaches sub-networks such as the semantic guide.

    Args:
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key of the loss in loss dicts; mmengine sums (and back-propagates) the
            keys that contain ``'loss'``, so the name must contain it.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self, loss_weight: float, loss_name: str,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(loss_weight, bool) or not isinstance(loss_weight, (int, float)):
            raise TypeError(f'loss_weight must be a number, got {loss_weight!r}')
        if 'loss' not in loss_name:
            raise ValueError(f'loss_name must contain "loss" (mmengine only sums such keys), '
                             f'got {loss_name!r}')
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Key of this loss in the loss dict, e.g. ``'loss_spatial'``."""
        return self._loss_name

    @abstractmethod
    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        """The unweighted loss (a scalar tensor); arguments as in :meth:`forward`."""

    def forward(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        """Compute the weighted loss.

        Args:
            enhanced (Tensor): Enhanced images (N, 3, H, W), RGB in [0, 1].
            original (Tensor): The input images (N, 3, H, W), RGB in [0, 1].
            factor (Tensor): Enhancement factor map (N, C, H, W) in [-1, 1].

        Returns:
            Tensor: Scalar, ``loss_weight`` times the loss.
        """
        if enhanced.dim() != 4 or enhanced.shape != original.shape:
            raise ValueError(
                f'{type(self).__name__}: enhanced and original must be (N, 3, H, W) tensors of '
                f'one shape, got {tuple(enhanced.shape)} and {tuple(original.shape)}')
        if factor.dim() != 4 or factor.shape[0] != enhanced.shape[0] or \
                factor.shape[-2:] != enhanced.shape[-2:]:
            raise ValueError(
                f'{type(self).__name__}: factor must be (N, C, H, W) with the images\' N, H, W; '
                f'got {tuple(factor.shape)} for images {tuple(enhanced.shape)}')
        return self.loss_weight * self.compute(enhanced, original, factor)
