"""Semantic guidance loss of SGZ: focal loss of a frozen segmentation net on its own argmax.

Zheng & Gupta, WACV 2022, Sec. 3.3: the enhanced image is segmented by a frozen network (the
"guide"); its own argmax is the pseudo-label, and a focal loss against it rewards enhancements
that the network segments confidently. The guide's weights never change, but the loss
back-propagates through it into the enhanced image and so into the enhancer.
"""
import copy
import math
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmlowlight.registry import MODELS
from .base import BaseEnhanceLoss


def softmax_focal_loss(logits: Tensor, target: Tensor, gamma: float = 2.0, beta: float = 1.0,
                       eps: float = 1e-7) -> Tensor:
    """Multi-class (softmax) focal loss, averaged over pixels.

    ``-beta * (1 - p) ** gamma * log(p)`` with ``p`` the softmax probability of the target class
    clamped to ``[eps, 1 - eps]`` as in the official SGZ code. Hand-written because mmseg's
    ``FocalLoss`` is the sigmoid (one-vs-rest) form, needs ``mmcv.ops`` and would make the core
    import mmseg; mmdet's is sigmoid-only as well.

    Args:
        logits (Tensor): Class scores (N, K, H, W).
        target (Tensor): Class indices (N, H, W), int64 in [0, K).
        gamma (float): Focusing parameter. Defaults to 2.0.
        beta (float): Multiplier (the paper's beta). Defaults to 1.0.
        eps (float): Probability clamp. Defaults to 1e-7.

    Returns:
        Tensor: Scalar loss.
    """
    # At least float32 (half-precision logits under autocast), float64 stays float64.
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    log_prob = F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    # Clamping log(p) to [log(eps), log(1 - eps)] is the official clamp of p, done in log space
    # (log_softmax is stable where softmax-then-log underflows).
    log_prob = log_prob.clamp(math.log(eps), math.log1p(-eps))
    return (-beta * (1 - log_prob.exp()).pow(gamma) * log_prob).mean()


class FrozenGuideLoss(BaseEnhanceLoss):
    """Base of the losses computed through a frozen network (the "guide").

    The guide (built from ``guide``) is frozen: its parameters have ``requires_grad=False``, it is
    locked in eval mode (``train()`` cannot switch it, so BatchNorm statistics never move), and
    it does not run under ``no_grad``, so gradients reach the enhanced image. Its tensors are
    left out of this module's ``state_dict`` (a ResNet-50 FPN would add ~100 MB to every
    checkpoint, and an enhancer checkpoint must hold one enhancer only; the guide is rebuilt from
    its own config / checkpoint instead), and loading a state dict does not require them.

    Args:
        guide (dict | nn.Module): The guide module or its config (built in the mmlowlight scope
            unless it sets ``_scope_``).
        loss_weight (float): Multiplier of the loss.
        loss_name (str): Key of the loss in loss dicts.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self, guide: Union[Dict[str, Any], nn.Module], loss_weight: float,
                 loss_name: str, init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(loss_weight, loss_name, init_cfg=init_cfg)
        if isinstance(guide, nn.Module):
            self.guide = guide
        else:
            guide = copy.deepcopy(dict(guide))
            guide.setdefault('_scope_', 'mmlowlight')
            self.guide = MODELS.build(guide)
        self.guide.requires_grad_(False)
        self.guide.eval()
        self.register_state_dict_post_hook(_drop_guide_entries)
        self.register_load_state_dict_pre_hook(_fill_guide_entries)

    def train(self, mode: bool = True) -> 'FrozenGuideLoss':
        """Set the train/eval mode of this module, keeping the guide in eval mode."""
        super().train(mode)
        self.guide.eval()
        return self


@MODELS.register_module()
class SemanticGuidanceLoss(FrozenGuideLoss):
    """Focal loss of a frozen segmentation guide against its own argmax pseudo-labels.

    The guide is frozen and kept out of checkpoints (see :class:`FrozenGuideLoss`).

    Args:
        guide (dict | nn.Module): The guide, a module mapping RGB [0, 1] images (N, 3, H, W)
            to class logits (N, K, h, w), or its config, e.g.
            ``dict(type='FPNSegmentationGuide')`` or ``dict(type='MMSegGuide', config=...,
            checkpoint=...)`` (built in the mmlowlight scope unless it sets ``_scope_``).
        gamma (float): Focal loss focusing parameter. Defaults to 2.0.
        beta (float): Focal loss multiplier. Defaults to 1.0.
        eps (float): Probability clamp of the focal loss. Defaults to 1e-7.
        loss_weight (float): Defaults to 0.1.
        loss_name (str): Defaults to ``'loss_semantic'``.
    """

    def __init__(self,
                 guide: Union[Dict[str, Any], nn.Module],
                 gamma: float = 2.0,
                 beta: float = 1.0,
                 eps: float = 1e-7,
                 loss_weight: float = 0.1,
                 loss_name: str = 'loss_semantic',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        # A positive clamp keeps log(p) and (1 - p) ** gamma, and their gradients, finite even
        # where the guide is certain (e.g. on a constant image).
        if not 0 < eps < 0.5:
            raise ValueError(f'eps must be in (0, 0.5), got {eps!r}')
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma!r}')
        super().__init__(guide, loss_weight, loss_name, init_cfg=init_cfg)
        self.gamma = gamma
        self.beta = beta
        self.eps = eps

    def compute(self, enhanced: Tensor, original: Tensor, factor: Tensor) -> Tensor:
        logits = self.guide(enhanced)
        pseudo_labels = logits.detach().argmax(1)
        return softmax_focal_loss(logits, pseudo_labels, self.gamma, self.beta, self.eps)


def _drop_guide_entries(module: FrozenGuideLoss, state_dict: 'OrderedDict[str, Tensor]',
                        prefix: str, local_metadata: dict) -> None:
    """state_dict post-hook: remove the guide's tensors."""
    guide_prefix = prefix + 'guide.'
    for key in [k for k in state_dict if k.startswith(guide_prefix)]:
        del state_dict[key]


def _fill_guide_entries(module: FrozenGuideLoss, state_dict: Dict[str, Tensor],
                        prefix: str, *args: Any) -> None:
    """load_state_dict pre-hook: let absent guide entries keep their current values.

    Runs on the loader's copy of the state dict, before the guide's own entries are read, so a
    checkpoint without guide tensors loads under ``strict=True``; guide tensors present in the
    checkpoint are still loaded.
    """
    for name, tensor in module.guide.state_dict().items():
        state_dict.setdefault(prefix + 'guide.' + name, tensor)
