"""The simple baselines of every comparison: auto gain, auto gamma and CLAHE."""
import numpy as np
import pytest

from mmlowlight.apis.classic_baselines import CLASSIC_BASELINES, auto_gain, auto_gamma, clahe


def dark_image():
    rng = np.random.default_rng(0)
    return (rng.random((40, 50, 3)) ** 2 * 60).astype(np.uint8)


def test_auto_gamma_reaches_the_target_mean_and_keeps_bright_images():
    out = auto_gamma(dark_image(), 0.45)
    assert out.dtype == np.uint8 and out.shape == (40, 50, 3)
    assert out.mean() / 255 == pytest.approx(0.45, abs=0.08)
    bright = np.full((4, 4, 3), 200, np.uint8)
    assert np.array_equal(auto_gamma(bright), bright)


def test_auto_gain_is_one_gain_that_reaches_the_target_mean():
    image = dark_image()
    out = auto_gain(image, 0.3)
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert out.mean() / 255 == pytest.approx(0.3, abs=1 / 255)
    # One gain: the ratio is the same for every unclipped, not-too-dark pixel.
    keep = (image >= 20) & (out < 255)
    ratios = out[keep] / image[keep]
    assert ratios.max() - ratios.min() < 0.1 and ratios.mean() > 2
    # Clipped, not wrapped: a lamp stays white.
    image[:2, :2] = 120
    assert (auto_gain(image, 0.3)[:2, :2] == 255).all()
    bright = np.full((4, 4, 3), 200, np.uint8)
    assert np.array_equal(auto_gain(bright), bright)
    with pytest.raises(ValueError, match='target_mean.*1.5'):
        auto_gain(image, 1.5)


def test_clahe_brightens_and_keeps_the_channel_order():
    image = dark_image()
    image[..., 0] //= 4  # little red (RGB) / blue (BGR)
    rgb, bgr = clahe(image), clahe(image[..., ::-1].copy(), bgr=True)
    assert rgb.mean() > image.mean()
    assert np.abs(rgb.astype(int) - bgr[..., ::-1]).max() <= 1
    assert rgb[..., 0].mean() < rgb[..., 2].mean()


@pytest.mark.parametrize('fn', list(CLASSIC_BASELINES.values()))
def test_bad_input_names_what_it_got(fn):
    with pytest.raises(TypeError, match='uint8.*float64'):
        fn(np.zeros((4, 4, 3)))
    with pytest.raises(TypeError, match=r'\(4, 4\)'):
        fn(np.zeros((4, 4), np.uint8))
