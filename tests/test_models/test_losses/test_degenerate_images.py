"""Every enhancement loss stays finite, in value and gradient, on constant images (issue 12.4).

A batch holding one all-black image used to give NaN gradients at the first training step (the
colour loss differentiated ``sqrt`` at 0), and the weights silently became NaN. The tests run
over every :class:`BaseEnhanceLoss` in the registry, so a new loss is checked as soon as it is
registered.
"""
import inspect

import pytest
import torch
import torch.nn as nn

import mmlowlight.models  # noqa: F401  (registers the losses)
from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.models.losses import BaseEnhanceLoss
from mmlowlight.registry import MODELS

#: Constant images (RGB in [0, 1]) that made the official losses' gradients NaN or might.
CONSTANT_COLOURS = {
    'black': (0.0, 0.0, 0.0),
    'white': (1.0, 1.0, 1.0),
    'grey': (0.5, 0.5, 0.5),
    'red': (1.0, 0.0, 0.0),
    'dark-teal': (0.0, 0.1, 0.1),
}


def _toy_guide() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Conv2d(4, 5, 1))


class _ToyTaskGuide(nn.Module):
    """A toy task model with the pseudo-label interface of MMDetGuide / MMSegGuide."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _toy_guide()

    def pseudo_label_loss(self, images, threshold):
        logits = self.net(images)
        labels = logits.detach().argmax(1)
        return nn.functional.cross_entropy(logits, labels), {'pseudo_labels': 1.0}


#: Constructor arguments of losses that cannot be built from their defaults alone.
REQUIRED_ARGS = {'SemanticGuidanceLoss': lambda: dict(guide=_toy_guide()),
                 'PseudoLabelGuidanceLoss': lambda: dict(guide=_ToyTaskGuide())}


def _registered_losses():
    names = [name for name, cls in MODELS.module_dict.items()
             if inspect.isclass(cls) and issubclass(cls, BaseEnhanceLoss)]
    assert {'ColorConstancyLoss', 'SpatialConsistencyLoss', 'ExposureLoss',
            'IlluminationSmoothnessLoss', 'SemanticGuidanceLoss'} <= set(names)
    return sorted(names)


def _build(name: str) -> BaseEnhanceLoss:
    args = REQUIRED_ARGS.get(name, dict)()
    try:
        return MODELS.build(dict(type=name, _scope_='mmlowlight', **args))
    except TypeError as exc:
        raise AssertionError(f'{name} cannot be built from its defaults ({exc}): add its '
                             'required arguments to REQUIRED_ARGS in this test') from exc


def _constant_batch(colours, size=(20, 24)):
    return torch.stack([torch.tensor(c).view(3, 1, 1).expand(3, *size) for c in colours])


def _assert_finite(loss: BaseEnhanceLoss, original: torch.Tensor) -> None:
    """Through a real enhancer: value, and gradients of image, factor and weights."""
    torch.manual_seed(0)
    enhancer = SGZEnhancer(scale_factor=1)
    inputs = original.clone().requires_grad_(True)
    enhanced, factor = enhancer(inputs)
    enhanced.retain_grad()
    factor.retain_grad()
    value = loss(enhanced, inputs, factor)
    assert torch.isfinite(value), f'{loss.loss_name} = {value}'
    value.backward()
    for what, grad in [('enhanced', enhanced.grad), ('factor', factor.grad),
                       ('input', inputs.grad)] + list(enhancer.named_parameters()):
        grad = getattr(grad, 'grad', grad)  # parameters carry theirs in .grad
        if grad is not None:
            assert torch.isfinite(grad).all(), f'{loss.loss_name}: non-finite gradient of {what}'


@pytest.mark.parametrize('name', _registered_losses())
@pytest.mark.parametrize('colour', sorted(CONSTANT_COLOURS))
def test_constant_image_alone(name, colour):
    """Batch size 1: the one image is constant."""
    _assert_finite(_build(name), _constant_batch([CONSTANT_COLOURS[colour]]))


@pytest.mark.parametrize('name', _registered_losses())
def test_constant_images_among_normal_ones(name):
    """A batch of 7: every constant image next to a random one."""
    torch.manual_seed(1)
    batch = torch.cat([_constant_batch(CONSTANT_COLOURS.values()),
                       torch.rand(2, 3, 20, 24) * 0.3])
    _assert_finite(_build(name), batch)


@pytest.mark.parametrize('name', _registered_losses())
def test_identity_on_constant_image(name):
    """``enhanced == original`` and a zero factor map (an untrained or switched-off curve)."""
    loss = _build(name)
    image = _constant_batch([CONSTANT_COLOURS['black'], CONSTANT_COLOURS['grey']])
    enhanced = image.clone().requires_grad_(True)
    factor = torch.zeros(2, 3, 20, 24, requires_grad=True)
    value = loss(enhanced, image, factor)
    value.backward()
    assert torch.isfinite(value)
    for grad in (enhanced.grad, factor.grad):
        assert grad is None or torch.isfinite(grad).all()


@pytest.mark.parametrize('mode', ['code', 'charbonnier'])
def test_colour_loss_gradient_at_zero_is_zero(mode):
    """The subgradient 0 where the channel means agree (before: NaN)."""
    loss = MODELS.build(dict(type='mmlowlight.ColorConstancyLoss', mode=mode, eps=0.0))
    grey = torch.full((1, 3, 4, 4), 0.3, requires_grad=True)
    value = loss(grey, grey.detach(), grey.detach())
    value.backward()
    assert value.item() == 0.0 and torch.equal(grey.grad, torch.zeros_like(grey))


def test_sqrt_zero_safe_values_are_sqrt():
    from mmlowlight.models.losses import sqrt_zero_safe
    x = torch.cat([torch.zeros(5), torch.rand(1000) ** 8, torch.tensor([1e-45, 1e-30, 4.0])])
    assert torch.equal(sqrt_zero_safe(x), x.sqrt())
    x = x.double().requires_grad_(True)
    sqrt_zero_safe(x).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[:5] == 0).all()
