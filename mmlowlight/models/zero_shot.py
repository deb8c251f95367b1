"""Standalone zero-shot training and testing of an enhancer (the SGZ training recipe)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel, ModuleList
from mmengine.structures import BaseDataElement
from torch import Tensor

from mmlowlight.registry import MODELS
from .enhancers import extract_enhancer_state_dict, is_official_state_dict
from .enhancers.pipeline_config import constructor_args


def _in_scope(cfg: dict) -> dict:
    """A copy of a sub-config that builds in the mmlowlight scope unless it names its own."""
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('_scope_', 'mmlowlight')
    return cfg


def _adopt_bare_enhancer_weights(module: nn.Module, state_dict: dict, prefix: str,
                                 *args) -> None:
    """Let ``load_from`` and ``tools/test.py`` take an enhancer-only weights file.

    The package's default weights, ``tools/convert_official.py`` outputs and official SGZ files
    hold ``efe.*`` or ``e_conv*`` keys, where this model has ``enhancer.efe.*``; without this
    mmengine would load nothing and only warn.
    """
    own = {k[len(prefix):]: k for k in state_dict if k.startswith(prefix)}
    if not own or any(k.startswith('enhancer.') for k in own):
        return
    local = {k: state_dict[full] for k, full in own.items()}
    if not (is_official_state_dict(local) or all(k.startswith('efe.') for k in local)):
        return
    for full in own.values():
        del state_dict[full]
    for key, value in extract_enhancer_state_dict(local).items():
        state_dict[f'{prefix}enhancer.{key}'] = value


@MODELS.register_module()
class ZeroShotEnhancer(BaseModel):
    """An enhancer trained by zero-reference (and optionally semantic) losses only.

    The model runs the enhancer on float RGB [0, 1] batches from its data preprocessor and sums
    the configured losses, each called as ``loss(enhanced, original, factor)``; leaving
    :class:`SemanticGuidanceLoss` out of ``losses`` trains without a guide network.

    Args:
        enhancer (dict): Config of the enhancer, e.g. ``dict(type='SGZEnhancer')``; it must map
            (N, 3, H, W) RGB [0, 1] to ``(enhanced, factor)``. Stored as ``self.enhancer``.
        losses (list[dict]): Configs of the losses; their ``loss_name`` must be unique.
        data_preprocessor (dict): Defaults to ``dict(type='mmlowlight.EnhanceDataPreprocessor')``.
        channels_last (bool): Feed the enhancer NHWC tensors, which oneDNN convolves faster on
            CPUs (the results are the same). Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 enhancer: dict,
                 losses: Sequence[dict],
                 data_preprocessor: Optional[dict] = dict(
                     type='mmlowlight.EnhanceDataPreprocessor'),
                 channels_last: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.enhancer = MODELS.build(_in_scope(enhancer))
        #: The enhancer's constructor arguments (its pipeline), which
        #: ``mmlowlight.EnhancerPipelineHook`` records in checkpoints as ``meta['enhancer']``.
        self.enhancer_args = constructor_args(enhancer)
        # mmengine's ModuleList is a BaseModule: init_weights reaches the losses (the guide's
        # Pretrained init); torch's would be skipped.
        self.losses = ModuleList([MODELS.build(_in_scope(cfg)) for cfg in losses])
        names = [loss.loss_name for loss in self.losses]
        if len(set(names)) != len(names):
            raise ValueError(f'ZeroShotEnhancer: loss names must be unique, got {names}')
        self.channels_last = channels_last
        self.register_load_state_dict_pre_hook(_adopt_bare_enhancer_weights)

    def _enhance(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        if inputs.dim() != 4 or inputs.shape[1] != 3:
            raise ValueError(f'ZeroShotEnhancer expects (N, 3, H, W) RGB inputs, got shape '
                             f'{tuple(inputs.shape)}')
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return self.enhancer(inputs)

    def loss(self, inputs: Tensor) -> Dict[str, Tensor]:
        """All losses of a batch: ``{loss_name: weighted scalar}``."""
        enhanced, factor = self._enhance(inputs)
        losses = {loss.loss_name: loss(enhanced, inputs, factor) for loss in self.losses}
        # Statistics some losses keep (e.g. the guide's pseudo-label count): logged, not summed
        # (their keys hold no 'loss').
        for loss in self.losses:
            losses.update(getattr(loss, 'log_vars', None) or {})
        return losses

    def predict(self, inputs: Tensor,
                data_samples: Optional[Sequence[BaseDataElement]] = None
                ) -> List[BaseDataElement]:
        """Enhance a batch; each image's data sample (created when absent) gets ``pred_img``,
        ``factor_map`` and ``input_img`` (float, (C, H, W)) added in place."""
        enhanced, factor = self._enhance(inputs)
        enhanced = enhanced.clamp(0, 1)
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(len(inputs))]
        if len(data_samples) != len(inputs):
            raise ValueError(f'ZeroShotEnhancer: {len(data_samples)} data samples for '
                             f'{len(inputs)} images')
        for sample, image, pred, factor_map in zip(data_samples, inputs, enhanced, factor):
            sample.set_data(dict(pred_img=pred.contiguous(), factor_map=factor_map.contiguous(),
                                 input_img=image.contiguous()))
        return list(data_samples)

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[Sequence[BaseDataElement]] = None,
                mode: str = 'tensor'
                ) -> Union[Dict[str, Tensor], List[BaseDataElement], Tuple[Tensor, Tensor]]:
        """Run in one of three modes.

        Args:
            inputs (Tensor): (N, 3, H, W) float RGB in [0, 1] (the preprocessor's output).
            data_samples (list[BaseDataElement], optional): Per-image metainfo (and ``gt_img``).
            mode (str): ``'loss'`` -> dict of weighted losses; ``'predict'`` -> list of data
                samples with ``pred_img`` (3, H, W) in [0, 1], ``factor_map`` (C, H, W) in
                [-1, 1] and ``input_img`` (3, H, W); ``'tensor'`` -> ``(enhanced, factor)``.
        """
        if mode == 'loss':
            return self.loss(inputs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._enhance(inputs)
        raise ValueError(f'ZeroShotEnhancer: mode must be "loss", "predict" or "tensor", '
                         f'got {mode!r}')
