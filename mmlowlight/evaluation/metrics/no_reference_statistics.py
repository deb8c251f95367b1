"""No-reference statistics of enhanced images, for validation data without references."""
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric

from mmlowlight.registry import METRICS

__all__ = ['NoReferenceStatistics']


@METRICS.register_module()
class NoReferenceStatistics(BaseMetric):
    """Brightness, exposure and colour-cast statistics of ``pred_img`` (no reference needed).

    For each enhanced image ``Y`` (3, H, W), RGB in [0, 1] (clamped), with grey image
    ``G = mean_c Y_c``:

    - ``mean_level = mean(Y)`` over all pixels and channels;
    - ``exposure_error = mean_p |mean(G over patch p) - well_exposed_level|`` over the
      non-overlapping ``patch_size`` x ``patch_size`` patches (border remainders are dropped;
      images smaller than a patch count as one patch): the L1 form of the exposure loss, 0 when
      every patch sits at the well-exposed level;
    - ``color_cast = max_c mean(Y_c) - min_c mean(Y_c)``: the spread of the channel means, 0 for
      a grey-world-balanced image (the colour-constancy assumption).

    Each is averaged over the images. Lower ``exposure_error`` and ``color_cast`` are better;
    ``mean_level`` is reported to see over- or under-enhancement at a glance.

    Args:
        patch_size (int): Side of the exposure patches. Defaults to 16 (as the exposure loss).
        well_exposed_level (float): Target grey level E in [0, 1]. Defaults to 0.6.
        collect_device (str): Where results are gathered in distributed runs.
        prefix (str, optional): Prefix of the metric names.
    """

    default_prefix: Optional[str] = ''  # names used as they are, e.g. save_best='PSNR'

    def __init__(self, patch_size: int = 16, well_exposed_level: float = 0.6,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not (isinstance(patch_size, int) and patch_size >= 1):
            raise ValueError(f'patch_size must be a positive int, got {patch_size!r}')
        if not 0 <= well_exposed_level <= 1:
            raise ValueError(f'well_exposed_level must be in [0, 1], got {well_exposed_level!r}')
        self.patch_size = patch_size
        self.well_exposed_level = well_exposed_level

    def statistics(self, img: torch.Tensor) -> Dict[str, float]:
        """The three statistics of one (3, H, W) RGB image, float in [0, 1] or uint8."""
        if img.dim() != 3 or img.shape[0] != 3:
            raise ValueError(f'expected a (3, H, W) RGB image, got shape {tuple(img.shape)}')
        # float64: dataset means of float32 statistics drift in the 7th digit.
        img = img.detach().double() / (1 if img.is_floating_point() else 255)
        img = img.clamp(0, 1)
        channel_means = img.mean(dim=(1, 2))
        grey = img.mean(dim=0, keepdim=True)
        kernel = min(self.patch_size, *grey.shape[-2:])
        patch_means = F.avg_pool2d(grey[None], kernel_size=kernel, stride=kernel)
        return dict(
            mean_level=float(img.mean()),
            exposure_error=float((patch_means - self.well_exposed_level).abs().mean()),
            color_cast=float(channel_means.max() - channel_means.min()))

    def process(self, data_batch: Any, data_samples: Sequence[Mapping]) -> None:
        """Compute the statistics of each sample's ``pred_img``."""
        for sample in data_samples:
            if sample.get('pred_img') is None:
                raise ValueError(f'no pred_img in the output for {sample.get("img_path")}; '
                                 'NoReferenceStatistics needs an enhancement model')
            self.results.append(self.statistics(sample['pred_img']))

    def compute_metrics(self, results: List[Dict[str, float]]) -> Dict[str, float]:
        return {key: float(np.mean([r[key] for r in results])) for key in results[0]}
