import pytest
import torch

from mmlowlight.models.denoisers import NoiseAdaptiveGuidedFilter, curve_gain, curve_lift
from mmlowlight.models.enhancers import SGZEnhancer, recurrent_enhance
from mmlowlight.registry import MODELS


def _noisy_flat(level=0.05, sigma=0.01, size=(64, 96), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return (level + sigma * torch.randn(1, 3, *size, generator=gen)).clamp(0, 1)


def _brightening(x, value=-0.8):
    return torch.full((x.shape[0], 3, 8, 8), value)


class TestCurveGain:

    @pytest.mark.parametrize('channels', [3, 24])
    def test_matches_autograd(self, channels):
        x = torch.rand(2, 3, 5, 7, requires_grad=True)
        factor = torch.rand(2, channels, 5, 7) * 2 - 1
        recurrent_enhance(x, factor, 8).sum().backward()
        torch.testing.assert_close(curve_gain(x.detach(), factor, 8), x.grad)

    def test_identity_curve_has_unit_gain(self):
        x = torch.rand(1, 3, 4, 4)
        assert torch.equal(curve_gain(x, torch.zeros(1, 3, 4, 4)), torch.ones_like(x))


class TestCurveLift:

    def test_share_the_lift_added(self):
        x = torch.full((1, 3, 2, 2), 0.25)
        # One step with r = -1: 0.25 -> 0.4375, so the lift is 1 - 0.25 / 0.4375.
        lift = curve_lift(x, torch.full((1, 3, 2, 2), -1.0), 1)
        torch.testing.assert_close(lift, torch.full_like(x, 1 - 0.25 / 0.4375))

    def test_identity_and_darkening_lift_nothing(self):
        x = torch.rand(1, 3, 4, 4) * 0.9 + 0.05
        assert torch.equal(curve_lift(x, torch.zeros(1, 3, 4, 4)), torch.zeros_like(x))
        assert torch.equal(curve_lift(x, torch.full((1, 3, 4, 4), 0.5)), torch.zeros_like(x))


class TestNoiseAdaptiveGuidedFilter:

    def test_builds_from_registry(self):
        module = MODELS.build(dict(type='NoiseAdaptiveGuidedFilter', strength=3.0,
                                   _scope_='mmlowlight'))
        assert isinstance(module, NoiseAdaptiveGuidedFilter) and module.strength == 3.0
        assert not list(module.parameters()) and not list(module.buffers())

    def test_noise_estimate(self):
        x = _noisy_flat(level=0.3, sigma=0.02, size=(256, 256))
        sigma = NoiseAdaptiveGuidedFilter(noise_row_step=1).estimate_noise(x)
        assert sigma.shape == (1, 3, 1, 1)
        # The robust mean drops the tails of the noise too: within 15 % of the truth.
        assert torch.all((sigma - 0.02).abs() < 0.003), sigma.flatten()

    def test_noise_estimate_ignores_edges(self):
        x = torch.zeros(1, 3, 64, 64)
        x[..., ::8] = 1.0  # sparse strong structure, no noise
        assert NoiseAdaptiveGuidedFilter().estimate_noise(x).max() < 0.2

    # "Untouched" up to float rounding of the upsampled a = 1, b = 0 (far below 1/255).
    def test_clean_image_passes(self):
        x = torch.linspace(0, 1, 50 * 70).reshape(1, 1, 50, 70).repeat(1, 3, 1, 1)
        out = NoiseAdaptiveGuidedFilter(black_percentile=0)(x, _brightening(x))
        torch.testing.assert_close(out, x, atol=1e-6, rtol=0)

    def test_unit_gain_passes(self):
        x = _noisy_flat(level=0.5, sigma=1 / 255)
        out = NoiseAdaptiveGuidedFilter()(x, torch.zeros(1, 3, 4, 4))
        torch.testing.assert_close(out, x, atol=1e-6, rtol=0)

    def test_removes_noise_the_curve_amplifies(self):
        x = _noisy_flat()
        denoiser = NoiseAdaptiveGuidedFilter(black_percentile=0)  # the noise only
        # r = -0.5 lifts 0.05 to 0.66 with slope ~6 (at -0.8 the curve saturates near white,
        # where its slope is ~1 and the noise stays within the tolerance).
        factor = _brightening(x, -0.5)
        out = denoiser(x, factor)
        full = torch.nn.functional.interpolate(factor, size=x.shape[-2:], mode='bilinear',
                                               align_corners=True)
        noisy_std = recurrent_enhance(x, full).std()
        clean_std = recurrent_enhance(out, full).std()
        assert clean_std < 0.3 * noisy_std
        assert abs(out.mean() - x.mean()) < 1e-3  # no brightness shift

    def test_black_level_stays_dark_and_neutral(self):
        # A dark grey scene over a colour-tinted noise floor: the curve lifts the floor to grey.
        x = _noisy_flat(level=0.02, sigma=0.002, size=(64, 96))
        x[:, 2] += 0.01  # a bluish floor (the lavender cast)
        x[..., 32:, :] += 0.06
        factor = _brightening(x)
        full = torch.nn.functional.interpolate(factor, size=x.shape[-2:], mode='bilinear',
                                               align_corners=True)
        plain = recurrent_enhance(NoiseAdaptiveGuidedFilter(black_percentile=0)(x, factor),
                                  full)
        out = recurrent_enhance(NoiseAdaptiveGuidedFilter()(x, factor), full)
        floor, plain_floor = out[..., 4:28, 8:-8].mean((2, 3)), plain[..., 4:28, 8:-8].mean((2, 3))
        assert (floor < 0.5 * plain_floor).all()  # darker ...
        # ... and as neutral (the floor's colour is removed with it; removing the same share of
        # every channel's black level left B / G at 1.37 here).
        assert floor.max() / floor.min() < 1.15
        # The brighter part keeps most of its level.
        assert out[..., 40:, :].mean() > 0.8 * plain[..., 40:, :].mean()

    def test_black_level_folds_into_the_affine_map(self):
        x = _noisy_flat(level=0.03, sigma=0.003)
        factor = _brightening(x)
        # Single-scale: both filters smooth this image fully, so b differs by the offset only.
        off = NoiseAdaptiveGuidedFilter(black_percentile=0, detail_radius=0)
        on = NoiseAdaptiveGuidedFilter(black_percentile=5, detail_radius=0)
        _, b_off, _ = off.coefficients(off.pool(x), factor, off.estimate_noise(x))
        _, b_on, _ = on.coefficients(on.pool(x), factor, on.estimate_noise(x))
        assert (b_on < b_off).all()  # shifted by the black level
        assert on(x, factor).min() >= 0 and off(x, factor).mean() > on(x, factor).mean()

    def test_detail_radius_zero_is_the_single_scale_filter(self):
        x = _noisy_flat()
        factor = _brightening(x)
        denoiser = NoiseAdaptiveGuidedFilter(detail_radius=0)
        a, b, c = denoiser.coefficients(denoiser.pool(x), factor, denoiser.estimate_noise(x))
        assert not c.any()
        size = x.shape[-2:]
        a, b = (torch.nn.functional.interpolate(m, size=size, mode='bilinear',
                                                align_corners=True) for m in (a, b))
        assert torch.equal(denoiser(x, factor), torch.addcmul(b, a, x).clamp(min=0))

    @staticmethod
    def _striped(amplitude=0.015, period=32, sigma=0.01, size=(96, 128)):
        column = torch.arange(size[1], dtype=torch.float32)
        stripes = amplitude * torch.sin(2 * torch.pi * column / period)
        gen = torch.Generator().manual_seed(1)
        noise = sigma * torch.randn(1, 3, *size, generator=gen)
        return 0.06 + stripes + noise, stripes

    def test_two_scales_keep_texture_below_the_noise(self):
        # Stripes whose contrast is below strength * sigma: the single-scale filter smooths
        # them away with the noise; two scales keep most of them and still remove the noise.
        x, stripes = self._striped()
        factor = _brightening(x, -0.5)
        kept = {}
        for radius in (0, 1):
            out = NoiseAdaptiveGuidedFilter(black_percentile=0, detail_radius=radius)(x, factor)
            inner = out[..., 16:-16, 16:-16]
            profile = inner.mean(dim=(1, 2))[0]  # mean over channels and rows
            wave = stripes[16:-16]
            amplitude = (profile - profile.mean()) @ wave / (wave @ wave)
            residual = inner - inner.mean(dim=2, keepdim=True)  # noise left along columns
            kept[radius] = (float(amplitude), float(residual.std()))
        assert kept[1][0] > 0.6 and kept[1][0] > 2 * kept[0][0], kept
        assert kept[1][1] < 0.4 * 0.01, kept  # most of the noise (sigma 0.01) is gone

    def test_two_scales_pass_what_the_curve_does_not_amplify(self):
        x, _ = self._striped(sigma=1 / 255)
        out = NoiseAdaptiveGuidedFilter(detail_radius=1)(x, torch.zeros(1, 3, 4, 4))
        torch.testing.assert_close(out, x.clamp(min=0), atol=1e-6, rtol=0)

    def test_keeps_strong_edges(self):
        x = _noisy_flat(size=(64, 64))
        x[..., 32:] += 0.2
        out = NoiseAdaptiveGuidedFilter()(x, _brightening(x))
        step = out[..., 36:].mean() - out[..., :28].mean()
        assert step > 0.19
        # right at the edge the contrast survives too
        assert out[..., 33].mean() - out[..., 30].mean() > 0.15

    @pytest.mark.parametrize('size', [(1, 1), (5, 3), (37, 53)])
    def test_any_size(self, size):
        x = torch.rand(2, 3, *size) * 0.1
        out = NoiseAdaptiveGuidedFilter()(x, torch.full((2, 24, 2, 2), -0.5), 3)
        assert out.shape == x.shape and out.dtype == torch.float32 and torch.isfinite(out).all()

    def test_constant_images_are_finite(self):
        for value in (0.0, 1.0, 0.5):
            x = torch.full((1, 3, 20, 20), value)
            out = NoiseAdaptiveGuidedFilter(black_percentile=0)(x, _brightening(x))
            torch.testing.assert_close(out, x)
            # The black level (capped at max_black) darkens a flat image, finitely.
            out = NoiseAdaptiveGuidedFilter()(x, _brightening(x))
            assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
            assert (x - out).max() <= 0.05 + 1e-6

    @pytest.mark.parametrize('kwargs', [
        dict(scale=0), dict(scale=2.5), dict(radius=-1), dict(strength=-1.0),
        dict(tolerance=-0.1), dict(noise_row_step=0), dict(black_percentile=101),
        dict(max_black=1.0), dict(detail_radius=-1), dict(detail_radius=1.5)
    ])
    def test_bad_arguments(self, kwargs):
        with pytest.raises(ValueError):
            NoiseAdaptiveGuidedFilter(**kwargs)

    def test_bad_shapes(self):
        denoiser = NoiseAdaptiveGuidedFilter()
        with pytest.raises(ValueError, match='images'):
            denoiser(torch.rand(1, 4, 8, 8), torch.zeros(1, 3, 2, 2))
        with pytest.raises(ValueError, match='factor'):
            denoiser(torch.rand(1, 3, 8, 8), torch.zeros(1, 4, 2, 2))


class TestInEnhancer:

    def _model(self, **kwargs):
        torch.manual_seed(0)
        model = SGZEnhancer(scale_factor=4, denoiser=dict(type='NoiseAdaptiveGuidedFilter'),
                            **kwargs)
        model.init_weights()
        return model

    def test_state_dict_unchanged(self):
        assert self._model().state_dict().keys() == SGZEnhancer().state_dict().keys()

    def test_gradients_reach_the_efe(self):
        model = self._model().train()
        x = _noisy_flat(size=(48, 48)).requires_grad_(False)
        enhanced, factor = model(x)
        enhanced.mean().backward()
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
        assert any(g.abs().sum() > 0 for g in grads)

    def test_inference_matches_training_graph(self):
        model = self._model().eval()
        x = _noisy_flat(size=(48, 60)).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            fast, _ = model(x)
        with torch.no_grad():
            small = model.downscale(x)
            factor_low = model.refine_low_res_factor(small, model.efe(small))
            reference = recurrent_enhance(model.denoiser(x, factor_low),
                                          model.upsample_factor(factor_low, x))
        torch.testing.assert_close(fast, reference)


@pytest.mark.parametrize('size', [(1, 1), (3, 8), (20, 31)])
@pytest.mark.parametrize('radius', [0, 1, 2])
def test_box_is_avg_pool_without_padding(size, radius):
    from mmlowlight.models.denoisers.noise_adaptive_guided_filter import _box
    x = torch.rand(2, 6, *size)
    reference = torch.nn.functional.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius,
                                               count_include_pad=False) if min(size) > 2 * \
        radius or radius == 0 else None
    if reference is None:  # avg_pool2d refuses padding > half the kernel: compare by hand
        padded = torch.nn.functional.pad(x, (radius,) * 4)
        ones = torch.nn.functional.pad(torch.ones_like(x), (radius,) * 4)
        k = 2 * radius + 1
        reference = torch.nn.functional.avg_pool2d(padded, k, stride=1) / \
            torch.nn.functional.avg_pool2d(ones, k, stride=1)
    torch.testing.assert_close(_box(x, radius), reference)
