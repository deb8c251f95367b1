import numpy as np
import pytest
import torch

from mmlowlight.apis.inference import from_model_output, to_model_input
from mmlowlight.ops import enhance_frames, fast_path_unsupported, low_res_factor
from tests.enhancer_helpers import random_enhancer


def _reference(model, frames, bgr=False):
    with torch.inference_mode():
        out, _ = model(to_model_input(frames, 'cpu', bgr=bgr))
        return from_model_output(out, frames.dtype, bgr=bgr)


def _frames(shape, dtype=np.uint8, seed=0):
    top = np.iinfo(dtype).max // 4  # dark, so that the curve does something
    return np.random.default_rng(seed).integers(0, top, shape).astype(dtype)


def _assert_within_one_level(got, expected):
    assert got.shape == expected.shape and got.dtype == expected.dtype
    diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
    assert diff.max() <= 1
    assert (diff == 0).mean() >= 0.998


@pytest.mark.parametrize('bgr', [False, True])
@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('shape', [(1, 1, 1, 3), (1, 37, 61, 3), (3, 13, 250, 3),
                                   (2, 48, 72, 3)])
def test_matches_the_pytorch_reference(shape, dtype, bgr):
    model = random_enhancer(scale_factor=12)
    frames = _frames(shape, dtype)
    got = enhance_frames(model, frames, bgr=bgr)
    _assert_within_one_level(got, _reference(model, frames, bgr))


def test_1080p_with_official_like_weights_and_both_orders():
    model = random_enhancer(scale_factor=12)
    frames = _frames((1, 1080, 1920, 3))
    expected = _reference(model, frames)
    _assert_within_one_level(enhance_frames(model, frames), expected)
    bgr = np.ascontiguousarray(frames[..., ::-1])
    _assert_within_one_level(enhance_frames(model, bgr, bgr=True)[..., ::-1], expected)


@pytest.mark.parametrize('kwargs', [dict(scale_factor=1), dict(scale_factor=4, conv_type='conv'),
                                    dict(scale_factor=12, shared_factor=False),
                                    dict(scale_factor=12, num_iterations=5)])
def test_other_configurations(kwargs):
    model = random_enhancer(**kwargs)
    frames = _frames((2, 30, 41, 3))
    _assert_within_one_level(enhance_frames(model, frames), _reference(model, frames))


@pytest.mark.parametrize('gain_share', [0.0, 0.6])
@pytest.mark.parametrize('bgr', [False, True])
@pytest.mark.parametrize('shape', [(1, 1, 1, 3), (2, 37, 61, 3), (1, 96, 128, 3)])
def test_denoiser_and_exposure_control_match_the_reference(shape, bgr, gain_share):
    model = random_enhancer(scale_factor=12, exposure_control=dict(
        type='CurveExposureControl', gain_share=gain_share),
        denoiser=dict(type='NoiseAdaptiveGuidedFilter'))
    frames = _frames(shape)
    _assert_within_one_level(enhance_frames(model, frames, bgr=bgr),
                             _reference(model, frames, bgr))


def test_refine_low_res_factor_and_factor_transform_flow_in():
    model = random_enhancer(scale_factor=12)
    frames = _frames((2, 24, 36, 3))
    factor = low_res_factor(model, frames)
    assert factor.shape == (2, 3, 2, 3) and factor.abs().max() > 1e-3
    seen = []
    out = enhance_frames(model, frames, factor_transform=lambda f: seen.append(f) or f * 0)
    assert torch.equal(seen[0], factor) and np.array_equal(out, frames)
    model.refine_low_res_factor = lambda small, f: torch.zeros_like(f)
    assert np.array_equal(enhance_frames(model, frames), frames)


def test_in_place_output():
    model = random_enhancer(scale_factor=12)
    frames = _frames((1, 40, 50, 3))
    expected = enhance_frames(model, frames)
    assert enhance_frames(model, frames, out=frames) is frames
    assert np.array_equal(frames, expected)


def test_unsupported_models_are_named():
    model = random_enhancer()
    assert fast_path_unsupported(model) is None
    assert 'training' in fast_path_unsupported(random_enhancer().train())
    assert 'float64' in fast_path_unsupported(random_enhancer().double())
    denoised = random_enhancer()
    denoised.denoiser = torch.nn.Identity()
    assert 'denoiser' in fast_path_unsupported(denoised)
    with_denoiser = random_enhancer(denoiser=dict(type='NoiseAdaptiveGuidedFilter'))
    assert fast_path_unsupported(with_denoiser) is None
    # A gain before the curve without a denoiser: constant affine maps.
    gained = random_enhancer(exposure_control=dict(type='CurveExposureControl', gain_share=0.5))
    assert fast_path_unsupported(gained) is None
    assert 'has no' in fast_path_unsupported(torch.nn.Conv2d(3, 3, 1))
    with pytest.raises(ValueError, match='training mode'):
        enhance_frames(random_enhancer().train(), _frames((1, 4, 4, 3)))
    with pytest.raises(TypeError, match='uint8/uint16'):
        enhance_frames(model, np.zeros((1, 4, 4, 3), np.float32))


def test_default_weights_black_level_match_the_reference():
    # A smooth dark scene with grain: the default weights brighten it, so the denoiser's black
    # level is active (negative offsets in b, clamped at 0 before the curve in both paths).
    from mmlowlight.apis import init_enhancer
    rng = np.random.default_rng(0)
    ramp = np.linspace(2, 40, 96)[None, :, None] * np.array([1.0, 0.9, 1.2])
    frames = np.clip(ramp + rng.normal(0, 2, (2, 72, 96, 3)), 0, 255).astype(np.uint8)
    model = init_enhancer()
    out = enhance_frames(model, frames)
    _assert_within_one_level(out, _reference(model, frames))
    model.denoiser.black_percentile = 0
    assert out.astype(float).mean() < enhance_frames(model, frames).astype(float).mean() - 0.5


def test_default_weights_with_a_gain_before_the_curve_match_the_reference():
    # A dark scene with a lamp that the gain pushes past white: rolled off after the denoiser
    # in both paths (the fast one folds the gain into the denoiser's maps).
    from mmlowlight.apis import init_enhancer
    rng = np.random.default_rng(1)
    ramp = np.linspace(2, 30, 96)[None, :, None] * np.array([1.0, 0.9, 1.2])
    frames = np.clip(ramp + rng.normal(0, 2, (2, 72, 96, 3)), 0, 255)
    frames[:, 20:30, 40:52] = 200
    frames = frames.astype(np.uint8)
    model = init_enhancer(exposure_control=dict(
        type='CurveExposureControl', share_channels=True, spatial_variation=0.5,
        max_level=0.44, gain_share=0.6))
    out = enhance_frames(model, frames)
    _assert_within_one_level(out, _reference(model, frames))
    assert (out[:, 22:28, 42:50] >= 250).all()
    model.exposure_control.gain_share = 0.0
    assert np.abs(out.astype(float) - enhance_frames(model, frames)).mean() > 1


@pytest.mark.parametrize('bgr', [False, True])
def test_default_weights_without_the_denoiser_match_the_reference(bgr):
    # The gain, the night black point and the roll-off without a denoiser (its maps carried
    # them): constant affine maps. A night street (lamp: black point and roll-off) and a dim
    # room (gain only).
    from mmlowlight.apis import init_enhancer
    rng = np.random.default_rng(3)
    ramp = np.linspace(2, 30, 96)[None, :, None] * np.array([1.0, 0.9, 1.2])
    frames = np.clip(ramp + rng.normal(0, 2, (2, 72, 96, 3)), 0, 255)
    frames[0, 20:30, 40:52] = 110
    frames[1] = rng.uniform(5, 25, frames.shape[1:])
    frames = frames.astype(np.uint8)
    model = init_enhancer(denoiser=None)
    assert model.has_input_gain and fast_path_unsupported(model) is None
    out = enhance_frames(model, frames, bgr=bgr)
    _assert_within_one_level(out, _reference(model, frames, bgr))
    assert out[0].mean() < out[1].mean() - 10  # the night level took effect
    lamp = out[0, 22:28, 42:50]
    assert 200 < lamp.min() and lamp.max() < 255  # past the knee, rolled off below white


@pytest.mark.parametrize('threads', [1, 2])
def test_default_weights_with_the_light_rule_match_the_reference(threads):
    # A dark street with a clipped lamp and the same street without it: the light rule lowers
    # the first one's level (computed on a worker while the EFE runs, or inline on 1 thread).
    from mmlowlight.apis import init_enhancer
    rng = np.random.default_rng(2)
    ramp = np.linspace(2, 30, 96)[None, :, None] * np.array([1.0, 0.9, 1.2])
    frames = np.clip(ramp + rng.normal(0, 2, (2, 72, 96, 3)), 0, 255)
    frames[0, 20:30, 40:52] = 110
    frames[1] = rng.uniform(5, 25, frames.shape[1:])  # a dim room: no light stands out
    frames = frames.astype(np.uint8)
    model = init_enhancer(exposure_control=dict(
        type='CurveExposureControl', share_channels=True, spatial_variation=1.0,
        max_level=0.41, gain_share=0.7, light_level=0.26, light_black_quantile=0.05))
    from mmlowlight.ops.light_sources import light_weights
    np.testing.assert_array_equal(light_weights(model.exposure_control, frames), [1, 0])
    out = enhance_frames(model, frames, threads=threads)
    _assert_within_one_level(out, _reference(model, frames))
    model.exposure_control.light_black_quantile = None  # the black point darkens the shadows
    unpointed = enhance_frames(model, frames, threads=threads)
    assert out[0, :, :24].mean() < unpointed[0, :, :24].mean() - 2
    np.testing.assert_array_equal(out[1], unpointed[1])
    model.exposure_control.light_level = None
    plain = enhance_frames(model, frames, threads=threads)
    assert out[0].mean() < plain[0].mean() - 10
    np.testing.assert_array_equal(out[1], plain[1])


def test_a_custom_exposure_control_with_a_night_level_runs_its_own_light_weight():
    from mmlowlight.models.enhancers import CurveExposureControl
    from mmlowlight.registry import MODELS

    @MODELS.register_module(force=True)
    class RedLampsOnly(CurveExposureControl):
        """Counts only red lamps: channel order matters."""

        def light_weight(self, x):
            return (x[:, 0].amax(dim=(1, 2)) > 2 * x[:, 2].amax(dim=(1, 2))).float()

    rng = np.random.default_rng(3)
    frames = np.clip(rng.normal(12, 3, (2, 40, 60, 3)), 0, 255)
    frames[0, 5:10, 5:10] = (200, 20, 20)   # a red lamp
    frames[1, 5:10, 5:10] = (20, 20, 200)   # a blue one
    frames = frames.astype(np.uint8)
    model = random_enhancer(scale_factor=12, exposure_control=dict(
        type='RedLampsOnly', light_level=0.2, gain_share=0.6),
        denoiser=dict(type='NoiseAdaptiveGuidedFilter'))
    seen = []
    for bgr in (False, True):
        order = np.ascontiguousarray(frames[..., ::-1]) if bgr else frames
        got = enhance_frames(model, order, bgr=bgr,
                             light_transform=lambda w: seen.append(w) or w)
        _assert_within_one_level(got, _reference(model, order, bgr))
    np.testing.assert_array_equal(seen, [[1, 0], [1, 0]])
