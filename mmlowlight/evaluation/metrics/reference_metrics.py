"""Full-reference quality of enhanced images: PSNR and SSIM (scikit-image)."""
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mmlowlight.registry import METRICS
from mmlowlight.utils import tensor_to_uint8_image

__all__ = ['PSNR', 'SSIM']


class _ReferenceMetric(BaseMetric):
    """Scores ``pred_img`` against ``gt_img`` image by image; reports the mean over images.

    Both images are (3, H, W) RGB, float in [0, 1] or uint8. With ``quantize=True`` (default) the
    prediction is scored as the 8-bit image a user would save, ``round(clamp(x, 0, 1) * 255)``,
    which is how published LOL numbers are computed; scores use ``data_range=255``.

    Args:
        quantize (bool): Score 8-bit images (True) or the float images in [0, 1] (False).
        collect_device (str): Where results are gathered in distributed runs.
        prefix (str, optional): Prefix of the metric names.
    """

    metric_name = ''

    def __init__(self, quantize: bool = True, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.quantize = quantize

    def _as_array(self, img: Any) -> np.ndarray:
        """(3, H, W) tensor -> H x W x 3 float64 array in [0, data_range]."""
        if self.quantize:
            return tensor_to_uint8_image(img).astype(np.float64)
        if not img.is_floating_point():
            return tensor_to_uint8_image(img).astype(np.float64) / 255
        return img.detach().cpu().double().clamp(0, 1).permute(1, 2, 0).numpy()

    def _score(self, pred: np.ndarray, gt: np.ndarray) -> float:
        raise NotImplementedError

    def process(self, data_batch: Any, data_samples: Sequence[Mapping]) -> None:
        """Score each sample of a batch (dicts with ``pred_img`` and ``gt_img``)."""
        for sample in data_samples:
            if sample.get('gt_img') is None:
                raise ValueError(
                    f'{self.metric_name} needs a reference image (gt_img) for '
                    f'{sample.get("img_path", "a sample")}: validate on PairedImageDataset '
                    '(with LoadReferenceImage), or use NoReferenceStatistics for unpaired data')
            pred, gt = self._as_array(sample['pred_img']), self._as_array(sample['gt_img'])
            if pred.shape != gt.shape:
                raise ValueError(f'{sample.get("img_path")}: pred_img {pred.shape} and gt_img '
                                 f'{gt.shape} differ in shape')
            self.results.append(self._score(pred, gt))

    def compute_metrics(self, results: List[float]) -> Dict[str, float]:
        return {self.metric_name: float(np.mean(results))}

    @property
    def _data_range(self) -> float:
        return 255.0 if self.quantize else 1.0


@METRICS.register_module()
class PSNR(_ReferenceMetric):
    """Peak signal-to-noise ratio, ``10 log10(data_range² / MSE)`` over all pixels and channels
    (``skimage.metrics.peak_signal_noise_ratio``), averaged over images; identical images give
    ``inf``.

    Args:
        quantize (bool): See :class:`_ReferenceMetric`. Defaults to True.
        collect_device (str): Where results are gathered in distributed runs.
        prefix (str, optional): Prefix of the metric name ``'PSNR'``.
    """

    metric_name = 'PSNR'
    default_prefix: Optional[str] = ''  # names used as they are, e.g. save_best='PSNR'

    def _score(self, pred: np.ndarray, gt: np.ndarray) -> float:
        with np.errstate(divide='ignore'):  # MSE 0 -> inf, by definition
            return float(peak_signal_noise_ratio(gt, pred, data_range=self._data_range))


@METRICS.register_module()
class SSIM(_ReferenceMetric):
    """Structural similarity (``skimage.metrics.structural_similarity``), the mean of the
    per-channel SSIM of the RGB image, averaged over images; 1.0 for identical images.

    The default settings are those of Wang et al. (2004): an 11x11 Gaussian window with
    sigma 1.5 and population covariances. Images must be at least 11 pixels on each side
    (7 with ``gaussian_weights=False``).

    Args:
        quantize (bool): See :class:`_ReferenceMetric`. Defaults to True.
        gaussian_weights (bool): Gaussian window (True) or a 7x7 uniform one (False).
        collect_device (str): Where results are gathered in distributed runs.
        prefix (str, optional): Prefix of the metric name ``'SSIM'``.
    """

    metric_name = 'SSIM'
    default_prefix: Optional[str] = ''  # names used as they are, e.g. save_best='PSNR'

    def __init__(self, quantize: bool = True, gaussian_weights: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(quantize=quantize, collect_device=collect_device, prefix=prefix)
        self.gaussian_weights = gaussian_weights

    def _score(self, pred: np.ndarray, gt: np.ndarray) -> float:
        extra = dict(sigma=1.5, use_sample_covariance=False) if self.gaussian_weights else {}
        return float(structural_similarity(
            gt, pred, data_range=self._data_range, channel_axis=-1,
            gaussian_weights=self.gaussian_weights, **extra))
