import pytest
import torch

from mmlowlight.models.losses import ExposureRangeLoss
from mmlowlight.registry import MODELS


def _call(loss, enhanced):
    return loss(enhanced, torch.zeros_like(enhanced), torch.zeros_like(enhanced))


def test_zero_inside_the_range():
    loss = MODELS.build(dict(type='ExposureRangeLoss', low=0.2, high=0.9, _scope_='mmlowlight'))
    enhanced = 0.2 + 0.7 * torch.rand(2, 3, 32, 32)
    enhanced = enhanced.mean(1, keepdim=True).expand(-1, 3, -1, -1)  # grey levels in range
    assert float(_call(loss, enhanced)) == 0.0


def test_penalises_dark_and_burnt_patches():
    loss = ExposureRangeLoss(patch_size=16, low=0.2, high=0.9, loss_weight=1.0)
    dark = torch.full((1, 3, 16, 16), 0.1)
    bright = torch.full((1, 3, 16, 16), 1.0)
    assert float(_call(loss, dark)) == pytest.approx(0.01, rel=1e-4)
    assert float(_call(loss, bright)) == pytest.approx(0.01, rel=1e-4)
    assert float(_call(ExposureRangeLoss(loss_weight=10.0), dark)) == pytest.approx(0.1, rel=1e-4)


@pytest.mark.parametrize('value', [0.0, 1.0, 0.5])
@pytest.mark.parametrize('batch', [1, 3])
def test_finite_values_and_gradients_for_constant_images(value, batch):
    enhanced = torch.full((batch, 3, 8, 8), value, requires_grad=True)
    out = _call(ExposureRangeLoss(), enhanced)
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(enhanced.grad).all()


def test_gradient_brightens_dark_patches():
    enhanced = torch.full((1, 3, 16, 16), 0.1, requires_grad=True)
    _call(ExposureRangeLoss(), enhanced).backward()
    assert torch.all(enhanced.grad < 0)


def test_small_images_count_as_one_patch():
    assert float(_call(ExposureRangeLoss(loss_weight=1.0), torch.zeros(1, 3, 5, 7))) == \
        pytest.approx(0.04, rel=1e-4)


@pytest.mark.parametrize('kwargs', [dict(patch_size=0), dict(low=0.5, high=0.4),
                                    dict(high=1.2), dict(low=-0.1), dict(loss_name='exp')])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        ExposureRangeLoss(**kwargs)
