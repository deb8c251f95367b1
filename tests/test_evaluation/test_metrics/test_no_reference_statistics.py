import pytest
import torch

from mmlowlight.evaluation import NoReferenceStatistics


def test_uniform_grey_image_at_the_well_exposed_level():
    stats = NoReferenceStatistics().statistics(torch.full((3, 32, 32), 0.6))
    assert stats['mean_level'] == pytest.approx(0.6)
    assert stats['exposure_error'] == pytest.approx(0.0, abs=1e-6)
    assert stats['color_cast'] == pytest.approx(0.0, abs=1e-6)


def test_known_values():
    img = torch.zeros(3, 32, 32)
    img[0] = 0.9          # red channel bright: channel means 0.9, 0, 0
    img[:, :, 16:] += 0.3  # right half brighter in every channel
    img = img.clamp(0, 1)
    stats = NoReferenceStatistics(patch_size=16).statistics(img)
    # Grey levels: left patches 0.3, right patches (1.0 + 0.3 + 0.3) / 3.
    right = (1.0 + 0.3 + 0.3) / 3
    assert stats['exposure_error'] == pytest.approx((abs(0.3 - 0.6) + abs(right - 0.6)) / 2)
    assert stats['color_cast'] == pytest.approx((0.9 + 1.0) / 2 - 0.15)
    assert stats['mean_level'] == pytest.approx(float(img.mean()))


def test_uint8_input_and_small_images():
    metric = NoReferenceStatistics(patch_size=16)
    stats = metric.statistics(torch.full((3, 4, 5), 153, dtype=torch.uint8))
    assert stats['mean_level'] == pytest.approx(0.6)
    assert stats['exposure_error'] == pytest.approx(0.0, abs=1e-6)


def test_dataset_mean_and_argument_checks():
    metric = NoReferenceStatistics()
    metric.process({}, [dict(pred_img=torch.full((3, 16, 16), v)) for v in (0.2, 0.4)])
    result = metric.compute_metrics(metric.results)
    assert result['mean_level'] == pytest.approx(0.3)
    assert result['exposure_error'] == pytest.approx(0.3)
    with pytest.raises(ValueError, match='well_exposed_level'):
        NoReferenceStatistics(well_exposed_level=1.5)
