"""How sure a frozen detector or segmentor is of its predictions: a label-free score."""
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmlowlight.registry import METRICS

__all__ = ['ModelConfidence']


@METRICS.register_module()
class ModelConfidence(BaseMetric):
    """The model's confidence in its own predictions, averaged over the images (no labels).

    Per image: for a detector (``pred_instances.scores`` in the data sample), its highest box
    score, 0 when it predicts nothing; for a segmentor (``seg_logits``, (C, H, W)), the mean over
    the pixels of the largest class probability (softmax over the classes; a sigmoid for one
    channel). With ``background_index``, only the pixels predicted as another class count, and
    an image with none scores 0 (as a detector that finds nothing): the confidence of what the
    model calls objects, which the background, most of a scene, otherwise swamps. The metric
    ``confidence`` is the mean over the images, in [0, 1].

    Used to compare enhancer settings in front of one frozen model on the user's unlabelled dark
    images: on the downstream benchmark the settings of the tone and the denoiser rank by it as
    by the labelled mAP, while the output level does not (a darker output lowered the
    confidence and raised the mAP; see ``docs/en/user_guides/adapt_to_your_model.md``). For the
    benchmark's segmentor the plain mean barely moved with the settings (third decimal) and
    ranked the best one last; over the object pixels (``background_index=0``) it ranked it
    first on 5 of 6 seeds.

    Args:
        background_index (int, optional): Segmentation only: the class whose pixels are left
            out (e.g. 0 for a background class). Defaults to None (every pixel counts).
        collect_device (str): Where results are gathered in distributed runs.
        prefix (str, optional): Prefix of the metric name.
    """

    default_prefix: Optional[str] = ''

    def __init__(self, background_index: Optional[int] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if background_index is not None and not (isinstance(background_index, int)
                                                 and background_index >= 0):
            raise ValueError(f'background_index must be None or an int >= 0, got '
                             f'{background_index!r}')
        self.background_index = background_index

    def image_confidence(self, sample: Mapping) -> float:
        """The confidence of one data sample (a dict or a data element), in [0, 1].

        Raises:
            ValueError: The sample holds neither detections nor segmentation logits.
        """
        instances = sample.get('pred_instances')
        if instances is not None:
            scores = instances.get('scores') if isinstance(instances, Mapping) else \
                instances.scores
            scores = torch.as_tensor(scores)
            return float(scores.max()) if scores.numel() else 0.0
        logits = sample.get('seg_logits')
        if logits is not None:
            data = logits.get('data') if isinstance(logits, Mapping) else logits.data
            data = torch.as_tensor(data).float()
            if data.dim() != 3:
                raise ValueError(f'seg_logits must be (C, H, W), got {tuple(data.shape)} for '
                                 f'{sample.get("img_path")}')
            if data.shape[0] == 1:
                probability = data.sigmoid()[0]
                best = torch.maximum(probability, 1 - probability)
                predicted = (probability > 0.5).long()
            else:
                best, predicted = data.softmax(dim=0).max(dim=0)
            if self.background_index is not None:
                best = best[predicted != self.background_index]
                if not best.numel():
                    return 0.0
            return float(best.mean())
        raise ValueError(f'no pred_instances or seg_logits in the output for '
                         f'{sample.get("img_path")}: ModelConfidence needs a detector or a '
                         'segmentor')

    def process(self, data_batch: Any, data_samples: Sequence[Mapping]) -> None:
        """Record each sample's confidence."""
        self.results.extend(self.image_confidence(sample) for sample in data_samples)

    def compute_metrics(self, results: List[float]) -> Dict[str, float]:
        return dict(confidence=float(np.mean(results)))
