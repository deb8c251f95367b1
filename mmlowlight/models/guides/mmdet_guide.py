"""Any mmdet detector as the guide (mmdet is imported only when one is built)."""
import math
import os
from typing import Dict, Mapping, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmlowlight.registry import MODELS
from .openmmlab_guide import OpenMMLabGuide


@MODELS.register_module()
class MMDetGuide(OpenMMLabGuide):
    """An mmdet detector, given as config + checkpoint, frozen, on RGB [0, 1] images.

    Label-free adaptation (``PseudoLabelGuidanceLoss``): :meth:`pseudo_label_loss` runs the
    detector on the enhanced images without gradient (its ``predict``: score threshold and NMS
    of its own ``test_cfg``), keeps the boxes scored at least ``threshold`` as pseudo ground
    truth, and returns the detector's own training loss (``detector.loss``: assigner, sampler,
    classification and box losses of its ``train_cfg``) on the same images with gradient, which
    flows into the images only: the detector is frozen. Any mmdet detector works, one-stage or
    two-stage. See :class:`OpenMMLabGuide` for how it is built and fed.

    Args:
        config (str | dict | Config): An mmdet config file, a full config (its ``model`` is used)
            or a model config (with ``train_cfg``: the loss needs its assigner).
        checkpoint (str, optional): Local path or URL of the detector's weights. None keeps the
            detector's random/own init. Defaults to None.
    """

    def __init__(self, config: Union[str, os.PathLike, Mapping], checkpoint: Optional[str] = None
                 ) -> None:
        import mmdet.models  # noqa: F401  (lazy: fills mmdet's registry)
        super().__init__(config, checkpoint, 'mmdet')
        self.pad_size_divisor = int(getattr(self.model.data_preprocessor, 'pad_size_divisor', 1))

    @property
    def detector(self) -> nn.Module:
        """The mmdet detector."""
        return self.model

    def _padded_input(self, images: Tensor) -> Tensor:
        """Normalised and padded on the bottom/right to the detector's size divisor with 0
        (the mean colour after normalisation), as its data preprocessor pads."""
        x = self.normalize(images)
        height, width = x.shape[-2:]
        divisor = self.pad_size_divisor
        pad_h = math.ceil(height / divisor) * divisor - height
        pad_w = math.ceil(width / divisor) * divisor - width
        return F.pad(x, (0, pad_w, 0, pad_h)) if pad_h or pad_w else x

    def _samples(self, images: Tensor, padded: Tensor) -> list:
        from mmdet.structures import DetDataSample
        height, width = images.shape[-2:]
        meta = dict(img_shape=(height, width), ori_shape=(height, width), scale_factor=(1., 1.),
                    pad_shape=tuple(padded.shape[-2:]), batch_input_shape=tuple(padded.shape[-2:]))
        return [DetDataSample(metainfo=dict(meta)) for _ in range(len(images))]

    def forward(self, images: Tensor) -> Tuple:
        """The detector's raw head outputs (``mode='tensor'``) for RGB [0, 1] images."""
        return self.model(self._padded_input(images), mode='tensor')

    def pseudo_label_loss(self, images: Tensor, threshold: float
                          ) -> Tuple[Tensor, Dict[str, float]]:
        """The detector's loss on its own confident detections.

        Args:
            images (Tensor): (N, 3, H, W) RGB in [0, 1] (gradients flow back to them).
            threshold (float): Score a detection needs to become a pseudo box, in (0, 1).

        Returns:
            tuple[Tensor, dict]: The summed loss terms of the detector and
            ``{'pseudo_labels': pseudo boxes per image}``.
        """
        padded = self._padded_input(images)
        samples = self._samples(images, padded)
        with torch.no_grad():
            results = self.model.predict(padded.detach(), self._samples(images, padded),
                                         rescale=False)
        count = 0
        for sample, result in zip(samples, results):
            keep = result.pred_instances.scores >= threshold
            sample.gt_instances = result.pred_instances[keep]
            count += int(keep.sum())
        losses = self.model.loss(padded, samples)
        total = sum(value if isinstance(value, Tensor) else sum(value)
                    for key, value in losses.items() if 'loss' in key)
        return total, {'pseudo_labels': count / len(images)}
