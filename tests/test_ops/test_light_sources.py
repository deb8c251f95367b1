import numpy as np
import pytest
import torch

from mmlowlight.apis.inference import to_model_input
from mmlowlight.models.enhancers import CurveExposureControl
from mmlowlight.ops.light_sources import level_caps, light_weights
from tests.enhancer_helpers import LAMP, night_street


def _night_street(dtype=np.uint8, lamp=LAMP, seed=0):
    """``night_street`` (mean ~6 % of white) as an integer frame (1, H, W, 3)."""
    street = night_street(0.06, lamp, seed=seed)[0].permute(1, 2, 0).numpy()
    return (street * np.iinfo(dtype).max).astype(dtype)[None]


def _reference(control, frames):
    return control.light_weight(to_model_input(frames, 'cpu')).numpy()


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('lamp', [LAMP,                               # 1.1 %: counts in full
                                  (slice(10, 12), slice(20, 24)),   # 0.15 %: the ramp's start
                                  (slice(10, 12), slice(20, 27)),   # 0.26 %: half way
                                  (slice(0, 2), slice(0, 90)),      # 3.3 %: fading (a sky)
                                  (slice(0, 4), slice(0, 90)),      # 6.7 %: not a lamp
                                  None])                            # none: noise peaks only
def test_matches_the_pytorch_reference(dtype, lamp):
    control = CurveExposureControl(light_level=0.3)
    frames = _night_street(dtype, lamp)
    got = light_weights(control, frames)
    assert got.dtype == np.float32 and got.shape == (1,)
    np.testing.assert_allclose(got, _reference(control, frames), atol=1e-6)


def test_weights_of_typical_scenes():
    control = CurveExposureControl(light_level=0.3)
    street = _night_street()
    room = _night_street(lamp=None)
    flat = np.full((1, 20, 20, 3), 30, np.uint8)   # every pixel at the top, but no light
    black = np.zeros((1, 20, 20, 3), np.uint8)
    weights = light_weights(control, np.concatenate([street, room]))
    np.testing.assert_array_equal(weights, [1, 0])
    assert light_weights(control, flat)[0] == 0 and light_weights(control, black)[0] == 0
    np.testing.assert_array_equal(_reference(control, flat), [0])


def test_threshold_is_the_references_at_the_boundary():
    # 0.9 * 200 = 180: pixels at 179, 180 and 181 around the plateau; channel order is moot.
    control = CurveExposureControl(light_level=0.3, light_shares=(0.0, 1.0, 1.0, 2.0),
                                   light_contrast=(0.0, 1.0))
    frames = np.full((2, 10, 10, 3), 5, np.uint8)
    frames[:, 0, :3, 1] = 200
    frames[:, 1, :4, 2] = 180
    frames[:, 2, :5, 0] = 179
    frames[1, 3, :2] = 181
    np.testing.assert_allclose(light_weights(control, frames), _reference(control, frames),
                               atol=1e-7)
    np.testing.assert_allclose(light_weights(control, frames), [0.07, 0.09], atol=1e-7)


def test_level_caps():
    control = CurveExposureControl(max_level=0.4, light_level=0.25)
    np.testing.assert_allclose(level_caps(control, None, 2), [[0.4, 0], [0.4, 0]])
    light = np.float32([0, 0.5, 1])
    caps = level_caps(control, light, 3)
    np.testing.assert_allclose(caps[:, 0], [0.4, 0.325, 0.25], rtol=1e-6)
    np.testing.assert_array_equal(caps[:, 0], control.level_cap(torch.from_numpy(light)).numpy())
    np.testing.assert_array_equal(caps[:, 1], 0)
    control.light_level = None
    np.testing.assert_allclose(level_caps(control, light, 3), [[0.4, 0]] * 3)


def test_level_caps_with_a_rise():
    """The rise's share of the cap: all of it without light sources, none for a lit scene."""
    control = CurveExposureControl(max_level=0.4, max_level_rise=(0.1, 0.2, 0.6),
                                   light_level=0.25)
    light = np.float32([0, 0.5, 1])
    caps = level_caps(control, light, 3)
    np.testing.assert_allclose(caps, [[0.4, 0.2], [0.325, 0.1], [0.25, 0]], rtol=1e-6,
                               atol=1e-7)
    for mean in (0.05, 0.15, 0.2, 0.5):
        ramp = min(max((mean - 0.1) / 0.1, 0), 1)
        expected = control.level_cap(torch.from_numpy(light), torch.full((3, ), mean))
        np.testing.assert_allclose(caps[:, 0] + caps[:, 1] * ramp, expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(level_caps(control, None, 1), [[0.4, 0.2]], rtol=1e-6)
