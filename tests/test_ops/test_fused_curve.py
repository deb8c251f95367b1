import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models.denoisers import NoiseAdaptiveGuidedFilter
from mmlowlight.models.enhancers import recurrent_enhance
from mmlowlight.ops import apply_curve_maps
from mmlowlight.ops.fused_curve import ROWS_PER_TASK, _curve_rows


def _upsample(maps, height, width):
    return F.interpolate(torch.from_numpy(maps), size=(height, width), mode='bilinear',
                         align_corners=True)


def _reference(frames, factor, num_iterations=8, affine=None):
    """Plain PyTorch: upsample, (a * x + b), the curve, round(clamp(.) * max)."""
    max_value = np.iinfo(frames.dtype).max
    _, height, width, _ = frames.shape
    x = torch.from_numpy(frames.astype(np.float32) / max_value).permute(0, 3, 1, 2)
    if affine is not None and len(affine) == 3:  # the denoiser's two-scale form
        x = NoiseAdaptiveGuidedFilter(detail_radius=1).apply_coefficients(
            x, *(torch.from_numpy(m) for m in affine))
    elif affine is not None:
        x = _upsample(affine[0], height, width) * x + _upsample(affine[1], height, width)
    y = recurrent_enhance(x, _upsample(factor, height, width), num_iterations)
    return y.clamp(0, 1).mul(max_value).round().permute(0, 2, 3, 1).numpy()


def _case(shape, low_shape, dtype=np.uint8, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, np.iinfo(dtype).max // 3, shape).astype(dtype)
    factor = rng.uniform(-1, 0.3, (shape[0], channels, *low_shape)).astype(np.float32)
    return frames, factor


def _assert_within_one_level(got, expected, dtype):
    assert got.dtype == dtype and got.shape == expected.shape
    diff = np.abs(got.astype(np.float64) - expected)
    assert diff.max() <= 1
    assert (diff == 0).mean() >= 0.998


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('size, low', [((1, 1), (1, 1)), ((37, 61), (3, 5)),
                                       ((13, 250), (1, 21)), ((1080, 1920), (90, 160)),
                                       ((40, 30), (40, 30))])
def test_matches_pytorch_reference(size, low, dtype):
    frames, factor = _case((2, *size, 3), low, dtype)
    got = apply_curve_maps(frames, factor, threads=2)
    _assert_within_one_level(got, _reference(frames, factor), dtype)


@pytest.mark.parametrize('num_iterations, channels', [(3, 3), (8, 24), (4, 12)])
def test_other_step_counts_and_per_step_maps(num_iterations, channels):
    frames, factor = _case((1, 37, 61, 3), (4, 6), np.uint8, channels)
    got = apply_curve_maps(frames, factor, num_iterations)
    _assert_within_one_level(got, _reference(frames, factor, num_iterations), np.uint8)


@pytest.mark.parametrize('channels', [3, 24])
@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
def test_affine_maps_at_their_own_resolution(channels, dtype):
    frames, factor = _case((2, 97, 133, 3), (8, 11), dtype, channels)
    rng = np.random.default_rng(1)
    a = rng.uniform(0.7, 1.3, (2, 3, 5, 4)).astype(np.float32)
    b = rng.uniform(-0.05, 0.05, (2, 3, 5, 4)).astype(np.float32)
    got = apply_curve_maps(frames, factor, 8, affine=(a, b), threads=2)
    expected = _reference(frames, factor, 8, (a, b))
    _assert_within_one_level(got, expected, dtype)
    # The maps matter: identity maps give the plain result.
    assert not np.array_equal(got, apply_curve_maps(frames, factor, 8))
    identity = apply_curve_maps(frames, factor, 8, affine=(np.ones_like(a), np.zeros_like(b)))
    assert np.array_equal(identity, apply_curve_maps(frames, factor, 8))


@pytest.mark.parametrize('bright_rows', [None, slice(20, 23)])
def test_rolloff_matches_the_exposure_control(bright_rows):
    """Gained maps (a > 1) push highlights past 1: rolled off like CurveExposureControl.
    With ``bright_rows`` only those rows reach the knee (the others skip the roll-off)."""
    from mmlowlight.models.enhancers import CurveExposureControl
    frames, factor = _case((2, 37, 61, 3), (3, 4), np.uint8, 3)
    if bright_rows is not None:
        frames //= 4  # 3 x at most 21 / 255: below the knee
        frames[:, bright_rows, 30:] = 250
    a = np.full((2, 3, 4, 5), 3.0, np.float32)
    b = np.zeros_like(a)
    control = CurveExposureControl(gain_share=0.5, knee=0.8)
    gain = torch.tensor([3.0, 1.0]).view(2, 1, 1, 1)
    rates = control.rolloff_rate(gain).flatten().numpy()
    got = apply_curve_maps(frames, factor, 8, affine=(a, b), rolloff=(0.8, rates))
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    curve_input = control.roll_off(x * 3, gain)
    f = F.interpolate(torch.from_numpy(factor), size=(37, 61), mode='bilinear',
                      align_corners=True)
    expected = recurrent_enhance(curve_input, f, 8).clamp(0, 1)
    expected = (expected * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    _assert_within_one_level(got, expected, np.uint8)
    # Rate 0 (the second frame) is the plain clamp.
    clamped = apply_curve_maps(frames[1:], factor[1:], 8, affine=(a[1:], b[1:]))
    assert np.array_equal(got[1:], clamped)


def _detail_maps(n, low_shape, seed=2):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0.2, 0.9, (n, 3, *low_shape)).astype(np.float32),
            rng.uniform(-0.02, 0.04, (n, 3, *low_shape)).astype(np.float32),
            rng.uniform(0.0, 0.6, (n, 3, *low_shape)).astype(np.float32))


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('size', [(1, 1), (1, 7), (6, 1), (2, 2), (37, 61), (300, 41)])
@pytest.mark.parametrize('channels', [3, 24])
def test_detail_maps_match_pytorch_reference(size, dtype, channels):
    frames, factor = _case((2, *size, 3), (3, 4), dtype, channels)
    maps = _detail_maps(2, (4, 5))
    expected = _reference(frames, factor, 8, maps)
    for threads in (1, 3):
        _assert_within_one_level(apply_curve_maps(frames, factor, 8, affine=maps,
                                                  threads=threads), expected, dtype)
    # The 3 x 3 mean matters: the same maps as x' = (a + c) x + b give another result.
    if size[0] * size[1] > 4:
        plain = apply_curve_maps(frames, factor, 8, affine=(maps[0] + maps[2], maps[1]))
        assert np.abs(plain.astype(np.int64) - expected).max() > 1


def test_detail_window_stays_inside_each_image():
    # Image 0 black, image 1 white: a window that crossed the batch boundary would lift
    # image 0's last row (or darken image 1's first).
    frames = np.zeros((2, 8, 5, 3), np.uint8)
    frames[1] = 200
    factor = np.zeros((2, 3, 2, 2), np.float32)
    a = np.ones((2, 3, 2, 2), np.float32)
    maps = (a, np.zeros_like(a), np.zeros_like(a))  # x' = x_mid
    got = apply_curve_maps(frames, factor, 8, affine=maps, threads=1)
    assert np.array_equal(got, frames)


def test_detail_maps_in_place_with_many_tasks():
    height = 6 * ROWS_PER_TASK + 5  # several tasks per thread, boundaries inside images
    frames, factor = _case((2, height, 23, 3), (5, 3))
    maps = _detail_maps(2, (6, 4))
    separate = apply_curve_maps(frames, factor, 8, affine=maps, threads=1)
    for threads in (2, 4):
        in_place = frames.copy()
        assert apply_curve_maps(in_place, factor, 8, affine=maps, threads=threads,
                                out=in_place) is in_place
        assert np.array_equal(in_place, separate)
        assert np.array_equal(apply_curve_maps(frames, factor, 8, affine=maps,
                                               threads=threads), separate)


def test_threads_out_and_in_place_agree():
    frames, factor = _case((3, 200, 64, 3), (17, 5))
    single = apply_curve_maps(frames, factor, threads=1)
    assert np.array_equal(apply_curve_maps(frames, factor, threads=2), single)
    out = np.empty_like(frames)
    assert apply_curve_maps(frames, factor, out=out) is out and np.array_equal(out, single)
    in_place = frames.copy()
    apply_curve_maps(in_place, factor, out=in_place, threads=2)
    assert np.array_equal(in_place, single)


def test_zero_factor_keeps_the_frame():
    frames, factor = _case((1, 30, 40, 3), (3, 4), np.uint16)
    assert np.array_equal(apply_curve_maps(frames, np.zeros_like(factor)), frames)


def test_kernels_are_cached_on_disk():
    frames, factor = _case((1, 4, 4, 3), (1, 1))
    apply_curve_maps(frames, factor)
    # cache=True: the machine code goes to an index numba reloads in the next process.
    assert _curve_rows._cache._cache_path and _curve_rows.stats.cache_misses is not None
    assert len(_curve_rows.signatures) >= 1
    import os
    assert any(name.endswith('.nbi') for name in os.listdir(_curve_rows._cache._cache_path))


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(frames=np.zeros((1, 4, 4, 3), np.float32)), TypeError, 'uint8/uint16'),
    (dict(frames=np.zeros((4, 4, 3), np.uint8)), TypeError, 'N x H x W x 3'),
    (dict(factor=np.zeros((1, 5, 2, 2), np.float32)), ValueError, 'factor must be'),
    (dict(factor=np.zeros((2, 3, 2, 2), np.float32)), ValueError, 'factor must be'),
    (dict(factor=np.zeros((1, 6, 2, 2), np.float32)), ValueError, '6 channels'),
    (dict(affine=(np.ones((1, 3, 2, 2), np.float32), np.ones((1, 3, 3, 2), np.float32))),
     ValueError, 'one shape'),
    (dict(affine=(np.ones((1, 1, 2, 2), np.float32), np.ones((1, 1, 2, 2), np.float32))),
     ValueError, 'affine a must be'),
    (dict(affine=(np.ones((1, 3, 2, 2), np.float32),) * 2 + (np.ones((1, 3, 2, 3), np.float32),)),
     ValueError, 'c '),
    (dict(affine=(np.ones((1, 3, 2, 2), np.float32),)), ValueError, r'\(a, b\) or \(a, b, c\)'),
    (dict(out=np.zeros((1, 4, 4, 3), np.uint16)), ValueError, 'out must be'),
    (dict(rolloff=(0.8, np.zeros(1, np.float32))), ValueError, 'rolloff needs affine'),
    (dict(affine=(np.ones((1, 3, 2, 2), np.float32), np.zeros((1, 3, 2, 2), np.float32)),
          rolloff=(0.8, np.zeros(2, np.float32))), ValueError, '2 rates'),
])
def test_invalid_arguments(kwargs, error, match):
    args = dict(frames=np.zeros((1, 4, 4, 3), np.uint8),
                factor=np.zeros((1, 3, 2, 2), np.float32))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        apply_curve_maps(args.pop('frames'), args.pop('factor'), **args)
