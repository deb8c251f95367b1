import math

import numpy as np
import pytest
import torch

from mmlowlight.evaluation import PSNR, SSIM
from mmlowlight.registry import METRICS


def _sample(pred, gt=None, path='a.png'):
    sample = dict(pred_img=pred, img_path=path)
    if gt is not None:
        sample['gt_img'] = gt
    return sample


def _evaluate(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_identical_images_give_inf_psnr_and_unit_ssim():
    img = torch.rand(3, 16, 16)
    assert _evaluate(PSNR(), [_sample(img, img.clone())]) == {'PSNR': math.inf}
    assert _evaluate(SSIM(), [_sample(img, img.clone())])['SSIM'] == pytest.approx(1.0)


def test_psnr_of_a_known_mse():
    gt = torch.full((3, 8, 8), 100, dtype=torch.uint8)
    pred = gt.clone()
    pred[0, :4] += 10  # 1/6 of the values off by 10 grey levels: MSE = 100 / 6
    expected = 10 * math.log10(255**2 / (100 / 6))
    assert _evaluate(PSNR(), [_sample(pred, gt)])['PSNR'] == pytest.approx(expected)
    # Float inputs are quantised like saved 8-bit images by default.
    result = _evaluate(PSNR(), [_sample(pred.float() / 255, gt.float() / 255)])
    assert result['PSNR'] == pytest.approx(expected, abs=1e-6)


def test_psnr_is_averaged_over_images():
    gt = torch.zeros(3, 8, 8)
    samples = [_sample(torch.full_like(gt, v / 255), gt) for v in (1, 10)]
    expected = np.mean([10 * math.log10(255**2 / v**2) for v in (1, 10)])
    assert _evaluate(PSNR(), samples)['PSNR'] == pytest.approx(expected)


def test_ssim_drops_with_noise_and_matches_skimage_defaults():
    from skimage.metrics import structural_similarity
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    pred = np.clip(gt + rng.normal(0, 60, gt.shape), 0, 255).astype(np.uint8)
    value = _evaluate(SSIM(), [_sample(torch.from_numpy(pred).permute(2, 0, 1),
                                       torch.from_numpy(gt).permute(2, 0, 1))])['SSIM']
    expected = structural_similarity(gt.astype(float), pred.astype(float), data_range=255,
                                     channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)
    assert value == pytest.approx(expected) and value < 0.9


def test_missing_reference_is_a_clear_error():
    with pytest.raises(ValueError, match='gt_img.*dark.png'):
        PSNR().process({}, [_sample(torch.rand(3, 8, 8), path='dark.png')])


def test_registered():
    assert isinstance(METRICS.build(dict(type='mmlowlight.PSNR')), PSNR)
    assert isinstance(METRICS.build(dict(type='mmlowlight.SSIM')), SSIM)
