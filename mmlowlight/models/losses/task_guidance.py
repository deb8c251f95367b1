"""The user's own detector or segmentor as SGZ's guide, and a guard against drifting.

SGZ's semantic loss asks a frozen segmentation net to label the enhanced image confidently. With
the paper's guide (an ImageNet backbone under a freshly initialised head) the labels carry no
task. The user's own model, trained for their classes (usually on daytime data), is a guide that
knows the task: :class:`PseudoLabelGuidanceLoss` runs it on the enhanced image, keeps its
confident predictions as pseudo-labels (boxes above a score threshold after NMS, or pixels above
a confidence threshold) and back-propagates the model's own loss on them into the enhancer:
self-training of the enhancer, no labels needed.

A loss that rewards the model's confidence could turn the enhancer into a pattern generator
that excites the model. :class:`OutputAnchorLoss` bounds that: it penalises, beyond a margin,
how far the enhanced image moves from what the starting enhancer makes of the same input; the
zero-reference losses stay in the recipe as well.
"""
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmlowlight.registry import MODELS
from ..enhancers.checkpoint import DEFAULT_CHECKPOINT
from ..enhancers.pipeline_config import build_enhancer
from .semantic import FrozenGuideLoss

__all__ = ['PseudoLabelGuidanceLoss', 'OutputAnchorLoss']


@MODELS.register_module()
class PseudoLabelGuidanceLoss(FrozenGuideLoss):
    """The guide's own loss on its confident predictions for the enhanced image.

    Args:
        guide (dict | nn.Module): A frozen task model with a method
            ``pseudo_label_loss(images, threshold) -> (loss, stats)``: ``MMDetGuide`` (boxes
            scored at least ``score_threshold``) or ``MMSegGuide`` (pixels whose softmax
            confidence is at least ``score_threshold``).
        score_threshold (float): Confidence a prediction needs to become a pseudo-label, in
            (0, 1). Defaults to 0.5.
        loss_weight (float): Defaults to 1.0.
        loss_name (str): Defaults to ``'loss_guide'``.

    After each call :attr:`log_vars` holds the guide's statistics (e.g. ``guide_pseudo_labels``,
    the pseudo-labels per image), which ``ZeroShotEnhancer`` logs next to the losses.
    """

    def __init__(self, guide: Union[Dict[str, Any], nn.Module], score_threshold: float = 0.5,
                 loss_weight: float = 1.0, loss_name: str = 'loss_guide',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if not 0 < score_threshold < 1:
            raise ValueError(f'score_threshold must be in (0, 1), got {score_threshold!r}')
        super().__init__(guide, loss_weight, loss_name, init_cfg=init_cfg)
        if not callable(getattr(self.guide, 'pseudo_label_loss', None)):
            raise TypeError(f'{type(self.guide).__name__} cannot guide by pseudo-labels: it has '
                            'no pseudo_label_loss(images, threshold) (use MMDetGuide or '
                            'MMSegGuide)')
        self.score_threshold = score_threshold
        self.log_vars: Dict[str, Tensor] = {}

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        loss, stats = self.guide.pseudo_label_loss(enhanced, self.score_threshold)
        self.log_vars = {f'guide_{k}': torch.as_tensor(float(v)) for k, v in stats.items()}
        return loss


@MODELS.register_module()
class OutputAnchorLoss(FrozenGuideLoss):
    """Mean excess of ``|enhanced - anchor(original)|`` over ``margin``: a bound on drift.

    The anchor is the starting enhancer (the pipeline a checkpoint records, its weights frozen;
    kept out of checkpoints like a guide). Within ``margin`` (per pixel and channel, in [0, 1]
    units) the adapted enhancer may change its output freely; beyond it every bit of change
    costs, so an adaptation cannot wander into patterns that only excite the guide.

    Args:
        checkpoint (str, optional): The starting weights. Defaults to the package's.
        enhancer (dict, optional): Keys over the pipeline the checkpoint records (see
            :mod:`mmlowlight.models.enhancers.pipeline_config`). Defaults to None.
        margin (float): Free change per pixel, >= 0. Defaults to 0.05.
        loss_weight (float): Defaults to 10.0.
        loss_name (str): Defaults to ``'loss_anchor'``.
    """

    def __init__(self, checkpoint: Optional[str] = None, enhancer: Optional[dict] = None,
                 margin: float = 0.05, loss_weight: float = 10.0,
                 loss_name: str = 'loss_anchor',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if not margin >= 0:
            raise ValueError(f'margin must be >= 0, got {margin!r}')
        anchor, _, _ = build_enhancer(enhancer, checkpoint or DEFAULT_CHECKPOINT)
        # Its weights are the checkpoint's: the Runner's init_weights must not redraw them.
        anchor._is_init = True
        super().__init__(anchor, loss_weight, loss_name, init_cfg=init_cfg)
        self.margin = margin
        self.log_vars: Dict[str, Tensor] = {}

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        with torch.no_grad():
            reference, _ = self.guide(original)
        change = (enhanced - reference.to(enhanced.dtype)).abs()
        self.log_vars = {'drift': change.detach().mean()}
        return (change - self.margin).clamp(min=0).mean()
