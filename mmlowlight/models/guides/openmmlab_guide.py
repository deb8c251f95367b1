"""An OpenMMLab task model, given as config + checkpoint, frozen, fed RGB [0, 1] images.

Shared by :class:`MMSegGuide` and :class:`MMDetGuide`; the task package is imported only when a
guide is built (the core never imports mmdet or mmseg).
"""
import copy
import os
from typing import Mapping, Optional, Union

import torch
from mmengine.config import Config, ConfigDict
from mmengine.model import BaseModule, revert_sync_batchnorm
from mmengine.runner import load_checkpoint
from torch import Tensor

from mmlowlight.registry import MODELS

__all__ = ['OpenMMLabGuide']


class OpenMMLabGuide(BaseModule):
    """Build an mmdet / mmseg model from its config, load its checkpoint, bring images to its
    input convention.

    The model is built in its package's scope, its SyncBN layers are reverted to plain BN (the
    guide runs frozen, also on CPU), and the checkpoint is loaded at construction time, so
    ``init_weights`` leaves it alone (no backbone ``Pretrained`` download). :meth:`normalize`
    takes RGB [0, 1] images to the model's own input (0-255 scale, its data preprocessor's
    mean/std and channel order).

    Args:
        config (str | dict | Config): A config file, a full config (its ``model`` is used) or a
            model config.
        checkpoint (str, optional): Local path or URL of the weights (mmengine
            ``load_checkpoint``; local files are read with ``weights_only=True``). None keeps
            the model's random/own init.
        scope (str): The package's registry scope, ``'mmdet'`` or ``'mmseg'``.
    """

    def __init__(self, config: Union[str, os.PathLike, Mapping], checkpoint: Optional[str],
                 scope: str) -> None:
        super().__init__()
        if isinstance(config, (str, os.PathLike)):
            config = Config.fromfile(str(config))
        config = config.to_dict() if isinstance(config, Config) else copy.deepcopy(dict(config))
        model_cfg = dict(config.get('model', config))
        if 'type' not in model_cfg:
            raise ValueError(f'{type(self).__name__}: the config holds no model (no "type" in '
                             f'{sorted(model_cfg)})')
        model_cfg.setdefault('_scope_', scope)
        # As a ConfigDict: heads read their train_cfg / test_cfg by attribute.
        self.model = revert_sync_batchnorm(MODELS.build(ConfigDict(model_cfg)))
        self.checkpoint = checkpoint
        if checkpoint is not None:
            load_checkpoint(self.model, checkpoint, map_location='cpu', strict=True)
        preprocessor = self.model.data_preprocessor
        mean = getattr(preprocessor, 'mean', None)
        std = getattr(preprocessor, 'std', None)
        if mean is None or not getattr(preprocessor, '_enable_normalize', True):
            mean, std = torch.zeros(3), torch.ones(3)
        self.register_buffer('mean', mean.detach().clone().view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', std.detach().clone().view(1, 3, 1, 1), persistent=False)
        # Images are loaded BGR; a preprocessor that converts channels feeds the net RGB.
        self.expects_rgb = bool(getattr(preprocessor, 'channel_conversion', False))

    def init_weights(self) -> None:
        """Initialise the model unless its checkpoint was loaded already."""
        if self.checkpoint is None:
            super().init_weights()
        self._is_init = True

    def normalize(self, images: Tensor) -> Tensor:
        """RGB [0, 1] images (N, 3, H, W) -> the model's normalised input."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'{type(self).__name__} expects (N, 3, H, W) RGB images, got '
                             f'shape {tuple(images.shape)}')
        x = images if self.expects_rgb else images.flip(1)
        return (x * 255 - self.mean) / self.std
