import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models.enhancers import CurveExposureControl, SGZEnhancer, recurrent_enhance
from mmlowlight.registry import MODELS
from tests.enhancer_helpers import night_street


def _scene(level, highlight=None, size=(30, 40), seed=0):
    """A textured image with mean ``level``; ``highlight`` sets its brightest 2 %."""
    gen = torch.Generator().manual_seed(seed)
    x = (level * (0.6 + 0.8 * torch.rand(1, 3, *size, generator=gen))).clamp(0, 1)
    if highlight is not None:
        x[..., :1, :24] = highlight
    return x


def _brightening(x, value=-0.5):
    return torch.full_like(x, value)


class TestCurveExposureControl:

    def test_builds_from_registry_without_weights(self):
        control = MODELS.build(dict(type='CurveExposureControl', target_level=0.5,
                                    _scope_='mmlowlight'))
        assert isinstance(control, CurveExposureControl) and not list(control.parameters())

    def test_dark_image_reaches_target(self):
        control = CurveExposureControl()
        x = _scene(0.05)
        factor = control(x, _brightening(x))
        level = recurrent_enhance(x, factor).mean()
        assert abs(float(level) - float(control.target(x))) < 0.005
        assert 0.4 < float(level) < 0.5  # 0.45 * (mean / 0.05) ** 0.25 for mean ~0.05

    def test_target_grows_with_light_and_is_capped(self):
        control = CurveExposureControl()
        targets = [float(control.target(_scene(m))) for m in (0.01, 0.03, 0.1, 0.2)]
        assert targets == sorted(targets) and max(targets) == pytest.approx(control.max_level)

    def test_cap_rises_with_the_mean_level(self):
        control = CurveExposureControl(max_level=0.41, max_level_rise=(0.1, 0.2, 0.6))
        flat = CurveExposureControl(max_level=0.41)
        x = torch.cat([_scene(m) for m in (0.05, 0.08, 0.15, 0.2, 0.25)])
        means = x.mean(dim=(1, 2, 3))
        expected = 0.41 + ((means - 0.1) / 0.1).clamp(0, 1) * 0.19
        torch.testing.assert_close(control.level_cap(None, means), expected)
        targets = control.target(x)
        torch.testing.assert_close(targets[:2], flat.target(x)[:2])  # dark: the one cap
        assert targets[2] > flat.target(x)[2] and targets[2:].tolist() == sorted(targets[2:])
        assert float(targets[-1]) == pytest.approx(0.6)

    def test_rise_spares_scenes_lit_by_their_own_lights(self):
        control = CurveExposureControl(max_level=0.41, max_level_rise=(0.1, 0.2, 0.6),
                                       light_level=0.26)
        mean = torch.full((3, ), 0.2)
        caps = control.level_cap(torch.tensor([0.0, 0.5, 1.0]), mean)
        torch.testing.assert_close(caps, torch.tensor([0.6, 0.43, 0.26]))

    def test_well_lit_image_is_left_alone(self):
        control = CurveExposureControl()
        x = _scene(0.45, highlight=0.95)
        factor = control(x, _brightening(x))
        assert torch.equal(factor, torch.zeros_like(factor))
        assert float(control.target(x)) == pytest.approx(float(x.mean()))

    def test_darkening_map_on_a_lit_image_is_not_amplified(self):
        control = CurveExposureControl()
        x = _scene(0.5, highlight=1.0)
        assert torch.equal(control(x, _brightening(x, 0.5)), torch.zeros_like(x))

    def test_dim_image_with_highlights_fades(self):
        control = CurveExposureControl()
        x = _scene(0.2, highlight=0.9)  # key between the two lit_keys
        target = float(control.target(x))
        assert float(x.mean()) < target < float(control.target(_scene(0.2)))

    def test_per_image_and_per_step_maps(self):
        control = CurveExposureControl()
        x = torch.cat([_scene(0.03), _scene(0.5, highlight=1.0)])
        factor = torch.full((2, 24, 30, 40), -0.3)
        out = control(x, factor, 8)
        assert out.shape == factor.shape
        assert torch.all(out[1] == 0) and torch.all(out[0] < 0)

    def test_gradient_reaches_the_factor(self):
        x = _scene(0.05)
        factor = _brightening(x).requires_grad_()
        CurveExposureControl()(x, factor).sum().backward()
        assert factor.grad is not None and factor.grad.abs().sum() > 0

    @pytest.mark.parametrize('value', [0.0, 1.0, 0.5])
    def test_constant_images(self, value):
        x = torch.full((1, 3, 6, 6), value)
        out = CurveExposureControl()(x, _brightening(x))
        assert torch.isfinite(out).all() and out.abs().max() <= 1

    @pytest.mark.parametrize('kwargs', [
        dict(target_level=0), dict(max_level=1.5), dict(level_slope=-1),
        dict(lit_keys=(0.5, 0.4)), dict(lit_keys=(0.1,)), dict(max_scale=0),
        dict(search_size=0), dict(search_steps=0), dict(highlight_quantile=0),
        dict(spatial_variation=-0.1), dict(spatial_variation=1.5), dict(gain_share=-0.1),
        dict(gain_share=1.0), dict(knee=0), dict(knee=1), dict(light_level=0),
        dict(light_level=1.5), dict(light_shares=(0.004, 0.001, 0.02, 0.03)),
        dict(light_shares=(0.001, 0.004)), dict(light_shares=(0.001, 0.004, 0.003, 0.03)),
        dict(light_contrast=(-1, 2)), dict(light_contrast=(3, 3)),
        dict(light_black_quantile=-0.01), dict(light_black_quantile=0.5),
        dict(max_level_rise=(0.1, 0.2)), dict(max_level_rise=(0.2, 0.1, 0.7)),
        dict(max_level_rise=(0.1, 0.2, 0)), dict(max_level_rise=(0.1, 0.2, 1.2))
    ])
    def test_bad_arguments(self, kwargs):
        with pytest.raises(ValueError):
            CurveExposureControl(**kwargs)

    def test_bad_shapes(self):
        with pytest.raises(ValueError, match='factor maps'):
            CurveExposureControl()(torch.rand(1, 3, 4, 4), torch.rand(1, 4, 4, 4))


class _ConstantMap(torch.nn.Module):

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return torch.full_like(x, self.value)


class TestLightSources:

    def test_weight_is_one_for_a_lit_street_and_zero_without_lights(self):
        control = CurveExposureControl(light_level=0.26)
        weights = control.light_weight(torch.cat([night_street(), night_street(lamp=None),
                                                  torch.full((1, 3, 60, 90), 0.2),
                                                  torch.zeros(1, 3, 60, 90)]))
        assert weights.dtype == torch.float32
        torch.testing.assert_close(weights, torch.tensor([1.0, 0.0, 0.0, 0.0]))

    def test_weight_ramps_with_the_share_and_the_contrast(self):
        control = CurveExposureControl(light_level=0.26)
        small_lamp = night_street(lamp=None)
        small_lamp[..., 10:12, 20:27] = 0.42   # 0.26 %: half way up the share ramp
        assert float(control.light_weight(small_lamp)) == pytest.approx(0.44, abs=0.01)
        faint = night_street(level=0.12)       # the lamp ~3.4x the mean level
        assert 0 < float(control.light_weight(faint)) < 1
        sky = night_street(lamp=None)
        sky[..., :4, :] = 0.42                 # 6.7 %: a bright sky, not a lamp
        assert float(control.light_weight(sky)) == 0
        sky[..., 2:4, :] = sky[..., 4:6, :]    # 3.3 %: fading
        assert 0 < float(control.light_weight(sky)) < 1

    def test_target_is_capped_at_the_light_level(self):
        control = CurveExposureControl(max_level=0.41, light_level=0.26)
        x = torch.cat([night_street(0.1), night_street(0.1)])
        light = torch.tensor([1.0, 0.5])
        plain = control.target(x)
        capped = control.target(x, light)
        torch.testing.assert_close(plain, torch.full((2,), 0.41))
        torch.testing.assert_close(capped, torch.tensor([0.26, 0.335]))
        control.light_level = None
        torch.testing.assert_close(control.target(x, light), plain)

    def test_lit_scene_keeps_its_own_level(self):
        control = CurveExposureControl(light_level=0.26)
        x = _scene(0.45, highlight=0.95)
        assert float(control.target(x, torch.ones(1))) == pytest.approx(float(x.mean()))

    @pytest.mark.parametrize('gain_share', [0.0, 0.7])
    def test_enhancer_brightens_a_lit_street_less(self, gain_share):
        model = SGZEnhancer(scale_factor=4, exposure_control=dict(
            type='CurveExposureControl', gain_share=gain_share, light_level=0.2)).eval()
        model.efe = _ConstantMap(-0.5)  # brightens everywhere
        street, room = night_street(size=(96, 128)), night_street(lamp=None, size=(96, 128))
        light = model.scene_light(torch.cat([street, room]))
        torch.testing.assert_close(light, torch.tensor([1.0, 0.0]))
        with torch.inference_mode():
            dimmed = model(torch.cat([street, room]))[0].mean(dim=(1, 2, 3))
            model.exposure_control.light_level = None
            assert model.scene_light(street) is None
            plain = model(torch.cat([street, room]))[0].mean(dim=(1, 2, 3))
        assert float(dimmed[0]) < float(plain[0]) - 0.05
        assert float(dimmed[0]) == pytest.approx(0.2, abs=0.02)
        torch.testing.assert_close(dimmed[1], plain[1])


class TestBlackPoint:

    def test_floor_of_a_lit_street_weighted_by_its_light(self):
        control = CurveExposureControl(light_level=0.3, light_black_quantile=0.05)
        street = night_street(0.04) + 0.02     # a noise floor under every pixel
        black = control.black_point(street.expand(3, -1, -1, -1),
                                    torch.tensor([1.0, 0.5, 0.0]))
        assert black.shape == (3, 1, 1, 1)
        floor = float(F.interpolate(street, size=(48, 48), mode='bilinear').amin(dim=1)
                      .flatten().kthvalue(int(0.05 * 2303 + 0.5) + 1).values)
        torch.testing.assert_close(black.flatten(), torch.tensor([floor, floor / 2, 0.0]))
        assert 0.02 <= floor < float(street.mean())

    def test_none_for_a_night_photo_exposed_as_it_should_be(self):
        control = CurveExposureControl(light_level=0.3, light_black_quantile=0.05)
        photo = _scene(0.3, highlight=0.95)    # lamps and all: key above lit_keys[1]
        assert float(control.dark_weight(photo)) == 0
        assert float(control.black_point(photo, torch.ones(1))) == 0

    def test_none_without_light_or_quantile(self):
        street = night_street()
        assert float(CurveExposureControl(light_black_quantile=0.05).black_point(street)) == 0
        assert float(CurveExposureControl(light_level=0.3).black_point(
            street, torch.ones(1))) == 0

    def test_enhancer_takes_the_floor_to_black_at_the_same_level(self):
        model = SGZEnhancer(scale_factor=4, exposure_control=dict(
            type='CurveExposureControl', gain_share=0.7, light_level=0.25,
            light_black_quantile=0.05)).eval()
        model.efe = _ConstantMap(-0.5)
        street = night_street(size=(96, 128)) + 0.02
        street[..., 64:, :] = 0.02             # a black foreground, at the floor
        with torch.inference_mode():
            pointed = model(street)[0]
            model.exposure_control.light_black_quantile = None
            plain = model(street)[0]
        assert float(model.scene_light(street)) == 1
        assert float(pointed[..., 68:, :].mean()) < 0.5 * float(plain[..., 68:, :].mean())
        assert float(pointed.mean()) == pytest.approx(float(plain.mean()), abs=0.02)


class TestShapeFactor:

    def test_defaults_share_channels_and_halve_variation(self):
        control = CurveExposureControl()
        assert control.share_channels and control.spatial_variation == 0.5
        factor = torch.rand(2, 3, 5, 7) * 2 - 1
        out = control.shape_factor(factor)
        grey = factor.mean(dim=1, keepdim=True)
        mean = grey.mean(dim=(2, 3), keepdim=True)
        torch.testing.assert_close(out, (mean + 0.5 * (grey - mean)).expand(2, 3, 5, 7))

    def test_identity_when_off(self):
        factor = torch.rand(1, 3, 4, 6) * 2 - 1
        control = CurveExposureControl(share_channels=False, spatial_variation=1)
        assert torch.equal(control.shape_factor(factor), factor)

    def test_zero_variation_is_one_curve_per_image(self):
        factor = torch.rand(2, 3, 4, 6) * 2 - 1
        out = CurveExposureControl(share_channels=False, spatial_variation=0).shape_factor(factor)
        torch.testing.assert_close(out, factor.mean(dim=(2, 3), keepdim=True).expand_as(out))

    def test_per_step_maps_share_within_each_step(self):
        factor = torch.rand(1, 24, 4, 4) * 2 - 1
        out = CurveExposureControl(spatial_variation=1).shape_factor(factor)
        steps = out.view(1, 8, 3, 4, 4)
        assert torch.equal(steps[:, :, :1].expand_as(steps), steps)
        torch.testing.assert_close(steps[:, :, 0], factor.view(1, 8, 3, 4, 4).mean(dim=2))

    def test_stays_in_range_and_keeps_gradients(self):
        factor = (torch.rand(1, 3, 6, 6) * 2 - 1).requires_grad_()
        out = CurveExposureControl().shape_factor(factor)
        assert out.abs().max() <= 1
        out.sum().backward()
        assert factor.grad is not None and torch.isfinite(factor.grad).all()

    def test_forward_scales_the_shaped_map(self):
        control = CurveExposureControl()
        x = _scene(0.05)
        factor = torch.rand(1, 3, 30, 40) * -0.5
        out = control(x, factor)
        # One map for the three channels: the output's channels are equal too.
        assert torch.equal(out[:, :1].expand_as(out), out) and out.abs().sum() > 0


class TestInEnhancer:

    def test_refine_low_res_factor_uses_it(self):
        torch.manual_seed(0)
        model = SGZEnhancer(scale_factor=4, exposure_control=dict(type='CurveExposureControl'))
        model.init_weights()
        x = torch.cat([_scene(0.5, highlight=1.0, size=(48, 64))])
        with torch.inference_mode():
            out, factor = model(x)
        assert torch.equal(factor, torch.zeros_like(factor)) and torch.equal(out, x)

    def test_weights_load_both_ways(self):
        plain = SGZEnhancer()
        controlled = SGZEnhancer(exposure_control=dict(type='CurveExposureControl'))
        controlled.load_state_dict(plain.state_dict(), strict=True)


def test_scale_aware_grad_sees_that_alpha_undoes_a_uniform_scaling():
    """The same values; the gradient along r (a uniform scaling of the map, which alpha undoes)
    vanishes with scale_aware_grad and not without it."""
    from mmlowlight.models.enhancers import CurveExposureControl
    torch.manual_seed(0)
    small = torch.rand(2, 3, 12, 16) * 0.1
    raw = -(torch.rand(2, 3, 12, 16) * 0.2 + 0.1)  # negative r brightens
    outputs, along = [], []
    for flag in (False, True):
        control = CurveExposureControl(scale_aware_grad=flag)
        factor = raw.clone().requires_grad_(True)
        out = control(small, factor)
        out.abs().sum().backward()  # a loss that prefers a weaker map
        outputs.append(out.detach())
        along.append(float((factor.grad * raw).sum()))
    assert torch.equal(outputs[0], outputs[1])
    assert abs(along[1]) < 1e-3 * abs(along[0])


class TestGainShare:
    """A share of the lift done by one linear gain before the curve."""

    def test_gain_is_the_share_of_the_lift_and_one_where_nothing_is_lifted(self):
        control = CurveExposureControl(gain_share=0.5)
        dark, lit = _scene(0.05), _scene(0.5, highlight=1.0)
        lift = float(control.target(dark)) / float(dark.mean())
        assert float(control.input_gain(dark)) == pytest.approx(lift**0.5, rel=0.02)
        assert float(control.input_gain(lit)) == 1.0
        assert float(CurveExposureControl().input_gain(dark)) == 1.0

    def test_gained_image_and_curve_reach_the_target_with_a_weaker_map(self):
        curve_only, shared = CurveExposureControl(), CurveExposureControl(gain_share=0.6)
        x = _scene(0.05)
        level = {}
        for name, control in (('curve', curve_only), ('shared', shared)):
            factor = control(x, _brightening(x))
            start = (x * control.input_gain(x)).clamp(max=1)
            level[name] = float(recurrent_enhance(start, factor).mean())
            assert level[name] == pytest.approx(float(control.target(x)), abs=0.005)
            level[name + ' map'] = float(factor.abs().mean())
        assert level['shared map'] < 0.6 * level['curve map']

    def test_enhancer_applies_the_gain_before_denoiser_and_curve(self):
        torch.manual_seed(0)
        model = SGZEnhancer(scale_factor=4, exposure_control=dict(
            type='CurveExposureControl', gain_share=0.6),
            denoiser=dict(type='NoiseAdaptiveGuidedFilter'))
        model.init_weights()
        x = _scene(0.04, size=(48, 64))
        with torch.no_grad():
            out, factor = model(x)
            small = model.downscale(x)
            gain = model.input_gain(small)
            start = model.exposure_control.roll_off(model.denoiser(
                x * gain, model.refine_low_res_factor(small, model.efe(small)),
                model.num_iterations), gain)
        assert torch.allclose(out, recurrent_enhance(start, factor), atol=1e-6)
        assert float(gain) > 1.5
        # Lit images: no gain, the same output as the curve alone gives.
        lit = _scene(0.5, highlight=1.0, size=(48, 64))
        with torch.no_grad():
            with_gain = model(lit)[0]
            model.exposure_control.gain_share = 0.0
            assert torch.equal(with_gain, model(lit)[0])

    def test_roll_off_keeps_the_mid_tones_and_takes_the_gained_white_to_one(self):
        control = CurveExposureControl(gain_share=0.5, knee=0.8)
        gain = torch.tensor([1.0, 3.0]).view(2, 1, 1, 1)
        x = torch.linspace(0, 3, 301).view(1, 1, 1, -1).expand(2, 3, 1, 301)
        out = control.roll_off(x, gain)
        assert torch.equal(out[0], x[0].clamp(max=1))  # gain 1: clamped only
        below = x[1] <= 0.8
        assert torch.equal(out[1][below], x[1][below])
        assert float(out[1, 0, 0, -1]) == pytest.approx(1.0, abs=1e-6)  # g -> 1
        steps = out[1, 0, 0].diff()
        assert (steps >= 0).all() and float(out[1].max()) <= 1
        # Slope 1 at the knee, flattening above it: no clipped plateau below g.
        assert float(steps[80]) == pytest.approx(0.01, rel=0.05)
        assert float(steps[-1]) > 0

    def test_gradient_reaches_the_network(self):
        model = SGZEnhancer(scale_factor=2, exposure_control=dict(
            type='CurveExposureControl', gain_share=0.5))
        model.init_weights()
        out, _ = model(_scene(0.05, size=(16, 16)))
        out.mean().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all()
                   for p in model.parameters())

    def test_the_fast_path_runs_it_with_and_without_a_denoiser(self):
        # Without one, the gain goes into constant affine maps (test_runtime compares values).
        from mmlowlight.ops.runtime import fast_path_unsupported
        control = dict(type='CurveExposureControl', gain_share=0.5)
        model = SGZEnhancer(scale_factor=4, exposure_control=control).eval()
        assert fast_path_unsupported(model) is None
        model = SGZEnhancer(scale_factor=4, exposure_control=control,
                            denoiser=dict(type='NoiseAdaptiveGuidedFilter')).eval()
        assert fast_path_unsupported(model) is None
