"""Any mmseg segmentor as the semantic guide (mmseg is imported only when one is built)."""
import copy
import os
from typing import Any, Mapping, Optional, Union

import torch
from mmengine.config import Config
from mmengine.model import BaseModule, revert_sync_batchnorm
from mmengine.runner import load_checkpoint
from torch import Tensor

from mmlowlight.registry import MODELS


@MODELS.register_module()
class MMSegGuide(BaseModule):
    """An mmseg segmentor, given as config + checkpoint, that segments RGB [0, 1] images.

    The segmentor is built in the ``mmseg`` scope, its SyncBN layers are reverted to plain BN
    (the guide runs frozen, also on CPU), and the checkpoint is loaded at construction time, so
    ``init_weights`` leaves it alone (no backbone ``Pretrained`` download). The image is brought
    to the segmentor's own input convention (0-255 scale, its data preprocessor's mean/std and
    channel order) before ``segmentor(x, mode='tensor')``, which returns the decode head's
    logits at its own stride.

    Args:
        config (str | dict | Config): An mmseg config file, a full config (its ``model`` is used)
            or a model config.
        checkpoint (str, optional): Local path or URL of the segmentor's weights (mmengine
            ``load_checkpoint``; local files are read with ``weights_only=True``). None keeps the
            segmentor's random/own init. Defaults to None.
    """

    def __init__(self, config: Union[str, os.PathLike, Mapping], checkpoint: Optional[str] = None
                 ) -> None:
        super().__init__()
        import mmseg.models  # noqa: F401  (lazy: fills mmseg's registry)

        if isinstance(config, (str, os.PathLike)):
            config = Config.fromfile(str(config))
        config = config.to_dict() if isinstance(config, Config) else copy.deepcopy(dict(config))
        model_cfg = dict(config.get('model', config))
        if 'type' not in model_cfg:
            raise ValueError(f'MMSegGuide: the config holds no segmentor (no "type" in '
                             f'{sorted(model_cfg)})')
        model_cfg.setdefault('_scope_', 'mmseg')
        self.segmentor = revert_sync_batchnorm(MODELS.build(model_cfg))
        self.checkpoint = checkpoint
        if checkpoint is not None:
            load_checkpoint(self.segmentor, checkpoint, map_location='cpu', strict=True)
        preprocessor = self.segmentor.data_preprocessor
        mean = getattr(preprocessor, 'mean', None)
        std = getattr(preprocessor, 'std', None)
        if mean is None or not getattr(preprocessor, '_enable_normalize', True):
            mean, std = torch.zeros(3), torch.ones(3)
        self.register_buffer('mean', mean.detach().clone().view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', std.detach().clone().view(1, 3, 1, 1), persistent=False)
        # mmseg images are loaded BGR; a preprocessor that converts channels feeds the net RGB.
        self.expects_rgb = bool(getattr(preprocessor, 'channel_conversion', False))

    def init_weights(self) -> None:
        """Initialise the segmentor unless its checkpoint was loaded already."""
        if self.checkpoint is None:
            super().init_weights()
        self._is_init = True

    def forward(self, images: Tensor) -> Any:
        """Segment RGB images.

        Args:
            images (Tensor): (N, 3, H, W) RGB in [0, 1].

        Returns:
            Tensor: Class logits (N, K, h, w) at the decode head's resolution.
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f'MMSegGuide expects (N, 3, H, W) RGB images, got shape '
                             f'{tuple(images.shape)}')
        x = images if self.expects_rgb else images.flip(1)
        logits = self.segmentor((x * 255 - self.mean) / self.std, mode='tensor')
        if isinstance(logits, (list, tuple)):
            logits = logits[0]
        return logits
