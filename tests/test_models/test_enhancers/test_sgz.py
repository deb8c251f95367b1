import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models.enhancers import SGZEnhancer, recurrent_enhance
from mmlowlight.registry import MODELS
from tests.enhancer_helpers import random_enhancer


def _official_forward(model: SGZEnhancer, x: torch.Tensor, s: int) -> torch.Tensor:
    """The official ``enhance_net_nopool.forward``, op by op, on our module's weights."""
    b = model.efe.blocks
    small = x if s == 1 else F.interpolate(x, scale_factor=1 / s, mode='bilinear')
    x1 = F.relu(b[0](small))
    x2 = F.relu(b[1](x1))
    x3 = F.relu(b[2](x2))
    x4 = F.relu(b[3](x3))
    x5 = F.relu(b[4](torch.cat([x3, x4], 1)))
    x6 = F.relu(b[5](torch.cat([x2, x5], 1)))
    r = torch.tanh(b[6](torch.cat([x1, x6], 1)))
    if s != 1:
        r = torch.nn.UpsamplingBilinear2d(scale_factor=s)(r)
    for _ in range(8):
        x = x + r * (torch.pow(x, 2) - x)
    return x


class TestSGZEnhancer:

    def test_parameter_count_dsc(self):
        assert sum(p.numel() for p in SGZEnhancer(conv_type='dsc').parameters()) == 10561

    def test_parameter_count_conv(self):
        # 3x3 convs: 3->32, 3x 32->32, 2x 64->32, 64->3.
        expected = (3 * 9 * 32 + 32) + 3 * (32 * 9 * 32 + 32) + 2 * (64 * 9 * 32 + 32) + (
            64 * 9 * 3 + 3)
        assert sum(p.numel() for p in SGZEnhancer(conv_type='conv').parameters()) == expected

    def test_built_from_registry(self):
        model = MODELS.build(dict(type='mmlowlight.SGZEnhancer', scale_factor=12))
        assert isinstance(model, SGZEnhancer) and model.scale_factor == 12

    @pytest.mark.parametrize('scale_factor', [1, 12])
    @pytest.mark.parametrize('conv_type', ['dsc', 'conv'])
    def test_matches_official_forward(self, scale_factor, conv_type):
        model = random_enhancer(conv_type=conv_type, scale_factor=scale_factor)
        x = torch.rand(2, 3, 48, 72)
        with torch.no_grad():
            y, r = model(x)
            expected = _official_forward(model, x, scale_factor)
        assert r.shape == (2, 3, 48, 72)
        assert r.abs().max() > 0.05  # a non-trivial factor map
        torch.testing.assert_close(y, expected, rtol=0, atol=1e-6)

    @pytest.mark.parametrize('size', [(1, 1), (5, 7), (13, 999), (601, 397)])
    @pytest.mark.parametrize('scale_factor', [1, 12])
    def test_any_size_keeps_size_and_range(self, size, scale_factor):
        model = random_enhancer(scale_factor=scale_factor)
        x = torch.rand(1, 3, *size)
        with torch.no_grad():
            y, r = model(x)
        assert y.shape == x.shape and r.shape == x.shape
        assert torch.isfinite(y).all() and torch.isfinite(r).all()
        assert y.min() >= 0 and y.max() <= 1
        assert r.min() >= -1 and r.max() <= 1

    def test_per_step_factor_maps(self):
        model = random_enhancer(shared_factor=False, num_iterations=8)
        x = torch.rand(1, 3, 24, 24)
        with torch.no_grad():
            y, r = model(x)
        assert r.shape == (1, 24, 24, 24)
        expected = x
        for step in torch.split(r, 3, dim=1):
            expected = expected + step * (expected**2 - expected)
        torch.testing.assert_close(y, expected)
        # Differs from using only the first map eight times.
        assert not torch.allclose(y, recurrent_enhance(x, r[:, :3]))

    @pytest.mark.parametrize('scale_factor', [1, 12])
    def test_refine_low_res_factor_is_identity_and_applied(self, scale_factor):
        model = random_enhancer(scale_factor=scale_factor)
        x = torch.rand(1, 3, 24, 36)
        with torch.no_grad():
            small = model.downscale(x)
            assert small.shape == (1, 3, 24 // scale_factor, 36 // scale_factor)
            factor = model.efe(small)
            assert model.refine_low_res_factor(small, factor) is factor
            # estimate_factor goes through the hook at the EFE's resolution.
            model.refine_low_res_factor = lambda small, factor: torch.zeros_like(factor)
            y, r = model(x)
        assert torch.count_nonzero(r) == 0 and torch.equal(y, x)

    def test_zero_factor_is_identity(self):
        x = torch.rand(1, 3, 8, 8)
        assert torch.equal(recurrent_enhance(x, torch.zeros_like(x)), x)

    def test_recurrent_enhance_brightens_with_negative_factor(self):
        x = torch.full((1, 3, 2, 2), 0.2)
        y = recurrent_enhance(x, -torch.ones_like(x))
        assert (y > x).all() and (y <= 1).all()

    def test_rie_float32_under_autocast(self):
        model = random_enhancer()
        x = torch.rand(1, 3, 16, 16)
        with torch.autocast('cpu', dtype=torch.bfloat16), torch.no_grad():
            y, r = model(x)
        assert r.dtype == torch.bfloat16  # the EFE ran under autocast
        assert y.dtype == torch.float32
        torch.testing.assert_close(y, recurrent_enhance(x, r.float()))

    def test_gradients_reach_every_parameter(self):
        model = random_enhancer(scale_factor=4).train()
        x = torch.rand(1, 3, 32, 32, requires_grad=True)
        y, r = model(x)
        (y.mean() + r.mean()).backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())

    def test_default_init_is_normal_002(self):
        torch.manual_seed(0)
        model = SGZEnhancer()
        model.init_weights()
        weight = model.efe.blocks[1].pointwise.weight
        assert 0.01 < weight.std().item() < 0.03
        assert torch.count_nonzero(model.efe.blocks[1].pointwise.bias) == 0

    @pytest.mark.parametrize('kwargs, match', [
        (dict(conv_type='tc'), 'conv_type'),
        (dict(scale_factor=0.5), 'scale_factor'),
        (dict(scale_factor='12'), 'scale_factor'),
        (dict(num_iterations=0), 'num_iterations'),
        (dict(channels=0), 'channels'),
    ])
    def test_invalid_arguments(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            SGZEnhancer(**kwargs)

    @pytest.mark.parametrize('shape', [(3, 8, 8), (1, 1, 8, 8), (1, 4, 8, 8)])
    def test_invalid_input_shape(self, shape):
        with pytest.raises(ValueError, match='expects an'):
            SGZEnhancer()(torch.rand(*shape))

    def test_wrong_factor_channels(self):
        with pytest.raises(ValueError, match='5 channels'):
            recurrent_enhance(torch.rand(1, 3, 2, 2), torch.rand(1, 5, 2, 2))
