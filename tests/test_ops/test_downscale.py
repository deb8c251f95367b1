import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmlowlight.apis.inference import to_model_input
from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.ops import downscale_frames
from mmlowlight.ops.sampling import downscaled_size, linear_taps


def _frames(shape, dtype=np.uint8, seed=0):
    return np.random.default_rng(seed).integers(0, np.iinfo(dtype).max, shape, dtype=dtype)


def _reference(frames, scale_factor, bgr=False):
    model = SGZEnhancer(scale_factor=scale_factor)
    with torch.no_grad():
        return model.downscale(to_model_input(frames, 'cpu', bgr=bgr)).numpy()


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('size, scale_factor', [((1080, 1920), 12), ((36, 60), 12),
                                                ((24, 16), 4), ((12, 12), 12)])
def test_multiples_of_the_scale_are_exactly_the_official_call(size, scale_factor, dtype):
    frames = _frames((2, *size, 3), dtype)
    got = downscale_frames(frames, scale_factor)
    # torch's own bilinear kernel rounds differently (by 1 ulp) with more than one thread, so
    # the reference call is taken single-threaded (the fast path matches that one exactly).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        official = F.interpolate(to_model_input(frames, 'cpu'), scale_factor=1 / scale_factor,
                                 mode='bilinear').numpy()
    finally:
        torch.set_num_threads(threads)
    assert got.dtype == np.float32 and got.shape == official.shape
    assert np.array_equal(got, official)  # bit-exact: the mean of the 2x2 sampled pixels
    cell = frames[:, scale_factor // 2 - 1:scale_factor // 2 + 1,
                  scale_factor // 2 - 1:scale_factor // 2 + 1].astype(np.float64)
    np.testing.assert_allclose(got[:, :, 0, 0], cell.mean((1, 2)) / np.iinfo(dtype).max,
                               atol=1e-6)


@pytest.mark.parametrize('size', [(1, 1), (37, 61), (13, 250), (601, 397), (5, 200)])
@pytest.mark.parametrize('scale_factor', [12, 4, 2.5])
def test_other_sizes_match_sgz_enhancer(size, scale_factor):
    frames = _frames((1, *size, 3))
    expected = _reference(frames, scale_factor)
    got = downscale_frames(frames, scale_factor)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-7)  # float rounding only


def test_scale_one_is_the_converted_frame():
    frames = _frames((1, 5, 7, 3), np.uint16)
    expected = frames.transpose(0, 3, 1, 2).astype(np.float32) / 65535
    assert np.array_equal(downscale_frames(frames, 1), expected)


def test_bgr_gives_the_rgb_thumbnail():
    frames = _frames((3, 48, 50, 3))
    rgb = downscale_frames(frames, 12)
    assert np.array_equal(downscale_frames(np.ascontiguousarray(frames[..., ::-1]), 12,
                                           bgr=True), rgb)
    np.testing.assert_allclose(rgb, _reference(frames[..., ::-1].copy(), 12, bgr=True),
                               atol=2e-7)


@pytest.mark.parametrize('height', [1, 2, 11, 12, 13, 23, 24, 1079, 1080, 2160])
def test_sizes_agree_with_torch(height):
    for scale_factor in (12, 4, 1.5):
        h, w, _ = downscaled_size(height, 24, scale_factor)
        expected = SGZEnhancer(scale_factor=scale_factor).downscale(
            torch.empty(1, 3, height, 24, device='meta'))
        assert (h, w) == tuple(expected.shape[-2:])


def test_linear_taps_validate_and_sum_to_one():
    taps = linear_taps(90, 1080, True)
    np.testing.assert_allclose(taps.weight0 + taps.weight1, 1, atol=1e-6)
    assert taps.index0.min() == 0 and taps.index1.max() == 89
    with pytest.raises(ValueError, match='in_size=0'):
        linear_taps(0, 4, False)
