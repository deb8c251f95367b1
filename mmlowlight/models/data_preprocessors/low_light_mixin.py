"""SGZ enhancement inside an mmdet/mmseg data preprocessor (shared by both adapters).

The parent preprocessor (mmdet ``DetDataPreprocessor`` / mmseg ``SegDataPreProcessor``) runs
unchanged; its normalised, padded batch is then enhanced:

1. denormalise (``x * std + mean``), flip BGR -> RGB if the parent kept the loaded BGR order,
   ``/ 255`` and clamp to [0, 1];
2. crop each sample to its valid (unpadded) region, batch equal-sized crops, run the enhancer;
3. add the change the enhancer made, mapped back to the model's channel order and normalisation,
   to (a copy of) the parent's output inside the valid region only.

Writing step 3 as a residual on the parent's output (instead of renormalising the enhanced
image) keeps the padding exactly as the parent wrote it and makes an enhancer with ``r == 0``
reproduce the parent's output bit for bit; a denormalise/renormalise round trip would not.
Equal-sized crops make the enhancement of an image independent of its batch partners: the
EFE's downscale never mixes padding into the factor map.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmlowlight.registry import MODELS
from ..enhancers.checkpoint import DEFAULT_CHECKPOINT, load_enhancer_weights

__all__ = ['LowLightPreprocessorMixin', 'valid_region']

#: (top, left, height, width) of the unpadded image inside the batch tensor.
Region = Tuple[int, int, int, int]

UNMERGED_LOSSES_MESSAGE = (
    'the auxiliary enhancement losses of the previous training step were never merged into '
    "the model's loss dict, so the enhancer would silently train without them: add "
    "custom_hooks=[dict(type='mmlowlight.AuxLossHook')] to the config (or remove aux_losses)")


def valid_region(data_sample: Optional[object], height: int, width: int) -> Region:
    """Where a sample's real pixels lie in a padded batch of size ``height`` x ``width``.

    mmseg's ``stack_batch`` records ``padding_size`` (left, right, top, bottom); mmdet keeps
    ``img_shape`` (the size before right/bottom padding, updated by mmdet's batch augments).
    Without either the whole tensor counts as image.

    Args:
        data_sample: A data sample with metainfo, or None.
        height (int): Height of the batch tensor.
        width (int): Width of the batch tensor.

    Returns:
        tuple[int, int, int, int]: ``(top, left, h, w)``, clipped to the tensor.
    """
    meta = data_sample.metainfo if data_sample is not None else {}
    padding = meta.get('padding_size')
    if padding is not None:
        left, right, top, bottom = (int(p) for p in padding)
        return top, left, max(1, height - top - bottom), max(1, width - left - right)
    img_shape = meta.get('img_shape')
    if img_shape is not None:
        return 0, 0, max(1, min(height, int(img_shape[0]))), max(1, min(width,
                                                                         int(img_shape[1])))
    return 0, 0, height, width


class LowLightPreprocessorMixin:
    """Adds an SGZ enhancer to an OpenMMLab image data preprocessor.

    Put it first in the bases (``class X(LowLightPreprocessorMixin, DetDataPreprocessor)``) and
    implement :attr:`_model_order_is_rgb`. Keyword arguments other than ``enhancer``,
    ``enhancer_checkpoint``, ``freeze`` and ``aux_losses`` go to the parent; see
    ``LowLightDetDataPreprocessor`` for what they mean.
    """

    def __init__(self,
                 enhancer: dict,
                 enhancer_checkpoint: Union[str, None, bool] = None,
                 freeze: bool = True,
                 aux_losses: Optional[Sequence[dict]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)  # the mmdet / mmseg preprocessor
        if not isinstance(enhancer, dict) or 'type' not in enhancer:
            raise TypeError(f'enhancer must be a config dict with a "type", got {enhancer!r}')
        enhancer = dict(enhancer)
        # Built in our scope whatever the config's default scope is (mmdet / mmseg).
        enhancer.setdefault('_scope_', 'mmlowlight')
        self.enhancer = MODELS.build(enhancer)
        self.freeze = bool(freeze)
        self.aux_losses = nn.ModuleList()
        for cfg in aux_losses or []:
            cfg = dict(cfg)
            cfg.setdefault('_scope_', 'mmlowlight')
            self.aux_losses.append(MODELS.build(cfg))
        names = [loss.loss_name for loss in self.aux_losses]
        if len(set(names)) != len(names):
            raise ValueError(f'aux_losses must have distinct loss_name values, got {names}')
        if self.freeze and names:
            raise ValueError(
                f'aux_losses {names} train the enhancer, but freeze=True keeps it fixed: '
                'set freeze=False or drop aux_losses')

        self.enhancer_checkpoint = self._resolve_checkpoint(enhancer_checkpoint)
        if self.enhancer_checkpoint is not None:
            # Eagerly: Runner.val/test and mmdet/mmseg init_* never call init_weights.
            load_enhancer_weights(self.enhancer, self.enhancer_checkpoint)
        if self.freeze:
            self.enhancer.requires_grad_(False)
            self.enhancer.eval()
        self._pending_aux_losses: Optional[Dict[str, Tensor]] = None

    @staticmethod
    def _resolve_checkpoint(checkpoint: Union[str, None, bool]) -> Optional[str]:
        if checkpoint is False:
            return None
        if checkpoint is None:
            if not osp.isfile(DEFAULT_CHECKPOINT):
                raise FileNotFoundError(
                    f'enhancer_checkpoint=None asks for the package default weights '
                    f'{DEFAULT_CHECKPOINT}, which are missing from this installation: pass '
                    'enhancer_checkpoint=<path> (ours or the official SGZ Epoch99.pth), or '
                    'False for a randomly initialised enhancer')
            return DEFAULT_CHECKPOINT
        if not isinstance(checkpoint, str) or isinstance(checkpoint, bool):
            raise TypeError('enhancer_checkpoint must be a path, None (package default '
                            f'weights) or False (random init), got {checkpoint!r}')
        return checkpoint

    @property
    def _model_order_is_rgb(self) -> bool:
        """Whether the parent's output is in RGB order (images are loaded BGR by mmcv)."""
        raise NotImplementedError

    def train(self, mode: bool = True) -> nn.Module:
        """Set training mode; a frozen enhancer stays in eval mode."""
        super().train(mode)
        if self.freeze:
            self.enhancer.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the enhancer unless its weights came from a checkpoint.

        ``BaseModule.init_weights`` of the detector/segmentor calls this (the preprocessor is
        a direct child but not a ``BaseModule``, so it would otherwise never be initialised).
        """
        if self.enhancer_checkpoint is None:
            self.enhancer.init_weights()
        for loss in self.aux_losses:
            if hasattr(loss, 'init_weights') and not getattr(loss, 'is_init', False):
                loss.init_weights()

    def pop_aux_losses(self) -> Dict[str, Tensor]:
        """Hand the auxiliary losses of the last training forward over (once); {} if none."""
        losses, self._pending_aux_losses = self._pending_aux_losses, None
        return losses or {}

    def forward(self, data: dict, training: bool = False) -> dict:
        """Run the parent preprocessor, then enhance the batch.

        Args:
            data (dict): Data from the dataloader.
            training (bool): Training step (aux losses are computed and stashed for
                :class:`AuxLossHook` when the enhancer is trainable).

        Returns:
            dict: The parent's output with enhanced ``inputs``.

        Raises:
            RuntimeError: The aux losses of the previous training step were never consumed.
        """
        if self._pending_aux_losses is not None:
            self._pending_aux_losses = None
            raise RuntimeError(UNMERGED_LOSSES_MESSAGE)
        data = super().forward(data, training)
        data['inputs'] = self.enhance_normalized(data['inputs'], data.get('data_samples'),
                                                 training)
        return data

    def _denormalize_to_rgb(self, inputs: Tensor) -> Tensor:
        if self._enable_normalize:  # (x * std + mean) / 255 in one pass
            rgb = torch.addcmul(self.mean / 255, inputs, self.std / 255)
        else:
            rgb = inputs / 255
        if not self._model_order_is_rgb:
            rgb = rgb.flip(1)
        return rgb.clamp_(0, 1)

    def _to_model_space(self, delta_rgb: Tensor, inplace: bool = False) -> Tensor:
        """Map a change of RGB [0, 1] values to the parent's channel order and normalisation."""
        delta = delta_rgb if self._model_order_is_rgb else delta_rgb.flip(1)
        scale = 255 / self.std if self._enable_normalize else 255.
        return delta.mul_(scale) if inplace else delta * scale

    def enhance_normalized(self, inputs: Tensor, data_samples: Optional[List] = None,
                           training: bool = False) -> Tensor:
        """Enhance a normalised, padded batch (the parent preprocessor's output).

        Args:
            inputs (Tensor): (N, 3, H, W) float, the parent's channel order and normalisation.
            data_samples (list, optional): Data samples whose metainfo locates the padding.
            training (bool): Compute and stash the aux losses (when the enhancer trains).

        Returns:
            Tensor: (N, 3, H, W), same space as ``inputs``; padded pixels unchanged.
        """
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError('low-light preprocessing needs (N, 3, H, W) inputs, got shape '
                             f'{tuple(inputs.shape)}')
        num, _, height, width = inputs.shape
        samples = list(data_samples) if data_samples is not None else [None] * num
        groups: Dict[Tuple[int, int], List[Tuple[int, Region]]] = OrderedDict()
        for index, sample in enumerate(samples):
            region = valid_region(sample, height, width)
            groups.setdefault(region[2:], []).append((index, region))

        compute_losses = training and not self.freeze and len(self.aux_losses) > 0
        rgb = self._denormalize_to_rgb(inputs)
        output = inputs.clone()
        losses: Dict[str, Tensor] = {}
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            for (h, w), members in groups.items():
                if h == height and w == width and len(members) == num:
                    crops = rgb  # no padding anywhere: no copy
                elif len(members) == 1:
                    i, (t, l, _, _) = members[0]
                    crops = rgb[i:i + 1, :, t:t + h, l:l + w]  # a view
                else:
                    crops = torch.stack([rgb[i, :, t:t + h, l:l + w] for i, (t, l, _, _) in
                                         members])
                enhanced, factor = self.enhancer(crops)
                enhanced = enhanced.to(rgb.dtype)
                if enhanced.requires_grad or compute_losses or enhanced is crops:
                    change = self._to_model_space(enhanced - crops)
                else:  # inference: reuse the enhancer's output (full-size allocations cost)
                    change = self._to_model_space(enhanced.sub_(crops), inplace=True)
                for k, (i, (t, l, _, _)) in enumerate(members):
                    output[i, :, t:t + h, l:l + w] += change[k]
                if compute_losses:
                    # Per-image average over groups of different sizes.
                    share = len(members) / num
                    for loss in self.aux_losses:
                        value = loss(enhanced, crops, factor) * share
                        losses[loss.loss_name] = losses.get(loss.loss_name, 0) + value
        if compute_losses:
            self._pending_aux_losses = losses
        return output
