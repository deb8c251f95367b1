"""Any mmseg segmentor as the guide (mmseg is imported only when one is built)."""
import os
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmlowlight.registry import MODELS
from .openmmlab_guide import OpenMMLabGuide

#: The ignored label of the pseudo-label masks (mmseg's convention).
IGNORE_INDEX = 255


@MODELS.register_module()
class MMSegGuide(OpenMMLabGuide):
    """An mmseg segmentor, given as config + checkpoint, that segments RGB [0, 1] images.

    Two uses: SGZ's semantic loss (``SemanticGuidanceLoss``: :meth:`forward` gives the decode
    head's logits) and label-free adaptation to the user's segmentor
    (``PseudoLabelGuidanceLoss``: :meth:`pseudo_label_loss`). See :class:`OpenMMLabGuide` for
    how it is built and fed.

    Args:
        config (str | dict | Config): An mmseg config file, a full config (its ``model`` is used)
            or a model config.
        checkpoint (str, optional): Local path or URL of the segmentor's weights. None keeps the
            segmentor's random/own init. Defaults to None.
    """

    def __init__(self, config: Union[str, os.PathLike, Mapping], checkpoint: Optional[str] = None
                 ) -> None:
        import mmseg.models  # noqa: F401  (lazy: fills mmseg's registry)
        super().__init__(config, checkpoint, 'mmseg')

    @property
    def segmentor(self) -> nn.Module:
        """The mmseg segmentor."""
        return self.model

    def forward(self, images: Tensor) -> Any:
        """Segment RGB images.

        Args:
            images (Tensor): (N, 3, H, W) RGB in [0, 1].

        Returns:
            Tensor: Class logits (N, K, h, w) at the decode head's resolution.
        """
        logits = self.model(self.normalize(images), mode='tensor')
        if isinstance(logits, (list, tuple)):
            logits = logits[0]
        return logits

    def pseudo_label_loss(self, images: Tensor, threshold: float
                          ) -> Tuple[Tensor, Dict[str, float]]:
        """Cross-entropy of the segmentor against its own confident argmax.

        Pixels whose softmax confidence is below ``threshold`` are ignored (label 255), so the
        loss sharpens what the segmentor already sees and leaves the doubtful pixels alone.

        Args:
            images (Tensor): (N, 3, H, W) RGB in [0, 1] (gradients flow back to them).
            threshold (float): Confidence a pixel needs, in (0, 1).

        Returns:
            tuple[Tensor, dict]: The loss (0 where no pixel qualifies) and
            ``{'pseudo_labels': share of labelled pixels}``.
        """
        logits = self.forward(images)
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        with torch.no_grad():
            confidence, labels = logits.softmax(1).max(1)
            labels[confidence < threshold] = IGNORE_INDEX
            share = float((labels != IGNORE_INDEX).float().mean())
        if share == 0:
            return logits.sum() * 0, {'pseudo_labels': 0.0}
        return F.cross_entropy(logits, labels, ignore_index=IGNORE_INDEX), \
            {'pseudo_labels': share}
