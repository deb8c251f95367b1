"""SGZ enhancement inside an mmdet/mmseg data preprocessor (shared by both adapters).

The parent preprocessor (mmdet ``DetDataPreprocessor`` / mmseg ``SegDataPreProcessor``) runs
unchanged; its normalised, padded batch is then enhanced:

1. denormalise (``x * std + mean``), flip BGR -> RGB if the parent kept the loaded BGR order,
   ``/ 255`` and clamp to [0, 1];
2. crop each image to its extent (the size of the tensor it arrived as, followed through mmdet's
   batch augments; see :mod:`.image_extents`), batch equal-sized crops, run the enhancer;
3. add the change the enhancer made, mapped back to the model's channel order and normalisation,
   to (a copy of) the parent's output inside the images only.

Writing step 3 as a residual on the parent's output (instead of renormalising the enhanced
image) keeps the padding exactly as the parent wrote it and makes an enhancer with ``r == 0``
reproduce the parent's output bit for bit; a denormalise/renormalise round trip would not.
Equal-sized crops make the enhancement of an image independent of its batch partners: the
EFE's downscale never mixes padding into the factor map.
"""
import os.path as osp
import warnings
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from torch import Tensor

from mmlowlight.registry import MODELS
from ..enhancers.checkpoint import DEFAULT_CHECKPOINT
from ..enhancers.pipeline_config import build_enhancer, constructor_args, resolve_enhancer_config
from .aux_loss_stash import AuxLossStash
from .image_extents import Extent, clip_extents, input_extents, metainfo_disagreements

__all__ = ['LowLightPreprocessorMixin']


class LowLightPreprocessorMixin:
    """Adds an SGZ enhancer to an OpenMMLab image data preprocessor.

    Put it first in the bases (``class X(LowLightPreprocessorMixin, DetDataPreprocessor)``) and
    implement :attr:`_model_order_is_rgb`. Keyword arguments other than ``enhancer``,
    ``enhancer_checkpoint``, ``freeze`` and ``aux_losses`` go to the parent; see
    ``LowLightDetDataPreprocessor`` for what they mean.
    """

    def __init__(self,
                 enhancer: Optional[dict] = None,
                 enhancer_checkpoint: Union[str, None, bool] = None,
                 freeze: bool = True,
                 aux_losses: Optional[Sequence[dict]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)  # the mmdet / mmseg preprocessor
        self.enhancer_checkpoint = self._resolve_checkpoint(enhancer_checkpoint)
        if self.enhancer_checkpoint is not None:
            # Eagerly (Runner.val/test and mmdet/mmseg init_* never call init_weights), and
            # the file read once for its pipeline and its weights.
            self.enhancer, enhancer_cfg, built_from = build_enhancer(
                enhancer, self.enhancer_checkpoint)
        else:
            enhancer_cfg, built_from = self._enhancer_config(enhancer)
            self.enhancer = MODELS.build(enhancer_cfg)
        #: The enhancer's constructor arguments as built (the pipeline), which
        #: ``AuxLossHook`` records in checkpoints as ``meta['enhancer']``.
        self.enhancer_args = constructor_args(enhancer_cfg)
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

        if self.freeze:
            self.enhancer.requires_grad_(False)
            self.enhancer.eval()
        self._aux_stash = AuxLossStash(self)
        self._warned_metainfo = False
        self.pipeline_description = f'{type(self).__name__}: {built_from}; ' + (
            'frozen' if self.freeze else 'trained with the task loss (EFE weights; the '
            'parameter-free exposure control and denoiser pass gradients through)')
        print_log(self.pipeline_description, logger='current')

    @staticmethod
    def _resolve_checkpoint(checkpoint: Union[str, None, bool]) -> Optional[str]:
        if checkpoint is False:
            return None
        if checkpoint is None:
            return LowLightPreprocessorMixin._default_checkpoint('enhancer_checkpoint=None')
        if not isinstance(checkpoint, str) or isinstance(checkpoint, bool):
            raise TypeError('enhancer_checkpoint must be a path, None (package default '
                            f'weights) or False (random init), got {checkpoint!r}')
        return checkpoint

    @staticmethod
    def _default_checkpoint(asked_by: str) -> str:
        if not osp.isfile(DEFAULT_CHECKPOINT):
            raise FileNotFoundError(
                f'{asked_by} asks for the package default weights {DEFAULT_CHECKPOINT}, which '
                'are missing from this installation: pass enhancer_checkpoint=<path> (ours or '
                'the official SGZ Epoch99.pth), or enhancer=dict(type=\'SGZEnhancer\', ...) '
                'with enhancer_checkpoint=False for a randomly initialised enhancer')
        return DEFAULT_CHECKPOINT

    @staticmethod
    def _enhancer_config(enhancer: Optional[dict]) -> Tuple[dict, str]:
        """The config of a randomly initialised enhancer (``enhancer_checkpoint=False``) and a
        line on what it is: nothing is recorded, so a given ``enhancer`` is built as
        configured, and None builds the default weights' pipeline (without their weights).
        With a checkpoint, :func:`build_enhancer` applies the rule of
        :mod:`mmlowlight.models.enhancers.pipeline_config`, as ``init_enhancer`` does.
        """
        if enhancer is not None:
            return resolve_enhancer_config(enhancer, None)
        source = LowLightPreprocessorMixin._default_checkpoint(
            'enhancer=None with enhancer_checkpoint=False')
        cfg, line = resolve_enhancer_config(None, source)
        return cfg, f'{line} (its pipeline only: the weights are randomly initialised)'

    @property
    def _model_order_is_rgb(self) -> bool:
        """Whether the parent's output is in RGB order (images are loaded BGR by mmcv)."""
        raise NotImplementedError

    @property
    def merge_aux_losses_automatically(self) -> bool:
        """Whether the aux losses reach the loss dict of the owning model's ``mode='loss'``
        forward by themselves (True unless ``AuxLossHook`` merges them)."""
        return self._aux_stash.merge_automatically

    @merge_aux_losses_automatically.setter
    def merge_aux_losses_automatically(self, value: bool) -> None:
        self._aux_stash.merge_automatically = bool(value)

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
        """Hand the auxiliary losses of the last training forward over (once); {} if none.

        Only needed where the model's ``mode='loss'`` forward is bypassed (``model.loss()``);
        ``model(**data, mode='loss')`` returns them in its loss dict.
        """
        return self._aux_stash.pop()

    def merge_aux_losses(self, model: nn.Module, args: tuple, kwargs: dict,
                         output: object) -> Optional[dict]:
        """Forward hook (``with_kwargs=True``) for the owning model: its ``mode='loss'``
        output with the waiting aux losses added; None (output unchanged) otherwise."""
        return self._aux_stash.merge_into(model, args, kwargs, output)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Run the parent preprocessor, then enhance the batch.

        Args:
            data (dict): Data from the dataloader (``inputs``: a list of (3, H, W) tensors or
                an (N, 3, H, W) tensor; ``data_samples`` optional, as for the parent).
            training (bool): Training step (aux losses are computed and wait for the model's
                loss dict when the enhancer is trainable).

        Returns:
            dict: The parent's output with enhanced ``inputs``.
        """
        # Losses of an earlier call that no loss dict took were never backpropagated (a
        # backward would have raised): that call was no training step, so they are stale.
        self._aux_stash.discard()
        extents = input_extents(data['inputs'])
        self._check_metainfo(extents, data.get('data_samples'))
        data, extents = self._forward_parent(data, training, extents)
        data['inputs'] = self.enhance_normalized(data['inputs'], extents, training)
        return data

    def _forward_parent(self, data: dict, training: bool,
                        extents: List[Extent]) -> Tuple[dict, List[Extent]]:
        """The parent's forward and the image extents in its output (padding keeps them)."""
        return super().forward(data, training), extents

    def _check_metainfo(self, extents: List[Extent], data_samples: Optional[Sequence]) -> None:
        disagreements = metainfo_disagreements(extents, data_samples)
        if disagreements and not self._warned_metainfo:
            self._warned_metainfo = True
            warnings.warn(
                f'{type(self).__name__}: the img_shape of {len(disagreements)} data sample(s) '
                f'differs from the size of the image tensor ({"; ".join(disagreements[:3])}); '
                'the tensor sizes locate the images and the padding (warned once)',
                UserWarning, stacklevel=3)

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

    def enhance_normalized(self, inputs: Tensor, extents: Optional[Sequence[Extent]] = None,
                           training: bool = False) -> Tensor:
        """Enhance a normalised, padded batch (the parent preprocessor's output).

        Args:
            inputs (Tensor): (N, 3, H, W) float, the parent's channel order and normalisation.
            extents (Sequence[tuple[int, int]], optional): ``(h, w)`` of each image, at the
                top left of its slot (clipped to ``H`` x ``W``); None: no padding anywhere.
            training (bool): Compute the aux losses (when the enhancer trains) and stash them
                for the model's loss dict.

        Returns:
            Tensor: (N, 3, H, W), same space as ``inputs``; padded pixels unchanged.
        """
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError('low-light preprocessing needs (N, 3, H, W) inputs, got shape '
                             f'{tuple(inputs.shape)}')
        num, _, height, width = inputs.shape
        if extents is None:
            extents = [(height, width)] * num
        if len(extents) != num:
            raise ValueError(f'{len(extents)} image extents for a batch of {num} images')
        groups: Dict[Extent, List[int]] = OrderedDict()
        for index, extent in enumerate(clip_extents(extents, height, width)):
            groups.setdefault(extent, []).append(index)

        compute_losses = training and not self.freeze and len(self.aux_losses) > 0
        rgb = self._denormalize_to_rgb(inputs)
        output = inputs.clone()
        losses: Dict[str, Tensor] = {}
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            for (h, w), members in groups.items():
                if h == height and w == width and len(members) == num:
                    crops = rgb  # no padding anywhere: no copy
                elif len(members) == 1:
                    crops = rgb[members[0]:members[0] + 1, :, :h, :w]  # a view
                else:
                    crops = torch.stack([rgb[i, :, :h, :w] for i in members])
                enhanced, factor = self.enhancer(crops)
                enhanced = enhanced.to(rgb.dtype)
                if enhanced.requires_grad or compute_losses or enhanced is crops:
                    change = self._to_model_space(enhanced - crops)
                else:  # inference: reuse the enhancer's output (full-size allocations cost)
                    change = self._to_model_space(enhanced.sub_(crops), inplace=True)
                for k, i in enumerate(members):
                    output[i, :, :h, :w] += change[k]
                if compute_losses:
                    # Per-image average over groups of different sizes.
                    share = len(members) / num
                    for loss in self.aux_losses:
                        value = loss(enhanced, crops, factor) * share
                        losses[loss.loss_name] = losses.get(loss.loss_name, 0) + value
        if compute_losses:
            self._aux_stash.put(losses, output)
        return output
