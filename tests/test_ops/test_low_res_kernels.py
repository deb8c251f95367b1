import time

import numpy as np
import pytest
import torch

from mmlowlight.apis import enhance_batch, init_enhancer
from mmlowlight.apis.demo_data import demo_images, synthesize_low_light
from mmlowlight.models.denoisers import NoiseAdaptiveGuidedFilter
from mmlowlight.models.enhancers import CurveExposureControl
from mmlowlight.ops import enhance_frames
from mmlowlight.ops.denoise_statistics import fold_gain
from mmlowlight.ops.low_res_kernels import (_bisected_nth_smallest, _capped_nth_smallest,
                                            exposure_controlled_factor, exposure_gain,
                                            exposure_scale, gain_fold_constants,
                                            guided_filter_coefficients)
from tests.enhancer_helpers import random_enhancer


def _demo(name, dark=True, size=None):
    rgb = demo_images()[name]
    if size is not None:
        rgb = rgb[:size[0], :size[1]]
    return synthesize_low_light(rgb) if dark else rgb


def _image(kind, shape, seed=0):
    """(1, 3, h, w) float32 thumbnails: a darkened demo image, constants or noise."""
    if kind in ('dark', 'lit'):
        rgb = _demo('astronaut', kind == 'dark')
        small = torch.nn.functional.interpolate(
            torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255, size=shape,
            mode='bilinear')
        return small.numpy()
    if kind == 'noise':
        return np.random.default_rng(seed).random((1, 3) + shape, np.float32) * 0.2
    return np.full((1, 3) + shape, {'black': 0.0, 'white': 1.0, 'grey': 0.5}[kind], np.float32)


def _factor(shape, channels=3, seed=1):
    # Mostly brightening (r < 0), with a few darkening values.
    rng = np.random.default_rng(seed)
    return (rng.random((1, channels) + shape, np.float32) * 1.2 - 1).clip(-1, 1)


@pytest.mark.parametrize('kind', ['dark', 'lit', 'noise', 'black', 'white', 'grey'])
@pytest.mark.parametrize('shape', [(1, 1), (7, 13), (90, 160)])
@pytest.mark.parametrize('channels', [3, 24])
@pytest.mark.parametrize('shaping', [{}, dict(share_channels=False, spatial_variation=1.0),
                                     dict(gain_share=0.6),
                                     dict(gain_share=0.6, max_level=0.41, light_level=0.2),
                                     dict(gain_share=0.7, light_level=0.3,
                                          light_black_quantile=0.05),
                                     dict(gain_share=0.7, max_level=0.41,
                                          max_level_rise=(0.02, 0.2, 0.6)),
                                     dict(max_level=0.41, max_level_rise=(0.0, 0.3, 0.6),
                                          light_level=0.3)])
def test_exposure_matches_torch(kind, shape, channels, shaping):
    control = CurveExposureControl(**shaping)
    small, factor = _image(kind, shape), _factor(shape, channels)
    light = np.float32([0.6]) if 'light_level' in shaping else None
    light_t = None if light is None else torch.from_numpy(light)
    with torch.inference_mode():
        alpha = control.solve_scale(torch.from_numpy(small), torch.from_numpy(factor), 8,
                                    light_t)
        reference = control(torch.from_numpy(small), torch.from_numpy(factor), 8, light_t)
    np.testing.assert_allclose(exposure_scale(control, small, factor, 8, light), alpha.flatten(),
                               rtol=1e-5, atol=0)
    np.testing.assert_allclose(exposure_controlled_factor(control, small, factor, 8, light),
                               reference.numpy(), rtol=1e-5, atol=1e-7)
    with torch.inference_mode():
        gain = control.input_gain(torch.from_numpy(small), light_t)
        black = control.black_point(torch.from_numpy(small), light_t)
    gains, blacks = exposure_gain(control, small, light)
    np.testing.assert_allclose(gains, gain.flatten(), rtol=1e-6)
    np.testing.assert_allclose(blacks, black.flatten(), rtol=1e-6, atol=0)


@pytest.mark.parametrize('kind', ['dark', 'lit', 'noise', 'black', 'white', 'grey'])
@pytest.mark.parametrize('shapes', [((1, 1), (1, 1)), ((5, 8), (3, 5)), ((37, 61), (25, 41)),
                                    ((135, 240), (90, 160))])
@pytest.mark.parametrize('options', [{}, dict(black_percentile=0), dict(radius=0),
                                     dict(radius=2, black_percentile=5), dict(detail_radius=0),
                                     dict(detail_radius=2, black_percentile=0)])
def test_coefficients_match_torch(kind, shapes, options):
    denoiser = NoiseAdaptiveGuidedFilter(**options)
    x_low, factor = _image(kind, shapes[0]), _factor(shapes[1])
    sigma = np.array([[0.01, 0.02, 0.0]], np.float32)
    with torch.inference_mode():
        reference = denoiser.coefficients(torch.from_numpy(x_low), torch.from_numpy(factor),
                                          torch.from_numpy(sigma).view(1, 3, 1, 1))
    a, b, c = guided_filter_coefficients(denoiser, x_low, factor, sigma, 8)
    # Float rounding only; the flat regions' variance (a difference of nearly equal numbers)
    # moves a by up to ~1e-5.
    np.testing.assert_allclose(a, reference[0].numpy(), rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(b, reference[1].numpy(), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(c, reference[2].numpy(), rtol=1e-5, atol=2e-6)
    if denoiser.detail_radius == 0:
        assert not c.any()


@pytest.mark.parametrize('options', [{}, dict(radius=2, black_percentile=5), dict(radius=0),
                                     dict(detail_radius=0)])
@pytest.mark.parametrize('height', [3, 130, 200])
def test_coefficients_in_bands_of_rows_equal_one_thread(options, height):
    """Bands of rows on worker threads (each with its box windows' margin) give the one-thread
    result exactly, also at the bands' ends."""
    denoiser = NoiseAdaptiveGuidedFilter(**options)
    x_low = np.stack([_image('dark', (height, 47)), _image('noise', (height, 47))])[:, 0]
    factor = np.concatenate([_factor((max(1, height // 3), 16))] * 2)
    sigma = np.array([[0.01, 0.02, 0.0], [0.03, 0.0, 0.01]], np.float32)
    single = guided_filter_coefficients(denoiser, x_low, factor, sigma, 8)
    for threads in (2, 3):
        banded = guided_filter_coefficients(denoiser, x_low, factor, sigma, 8, threads=threads)
        for got, expected in zip(banded, single):
            assert np.array_equal(got, expected)


@pytest.mark.parametrize('black', [None, np.array([0.0, 0.04], np.float32)])
def test_coefficients_fold_the_gain_as_fold_gain(black):
    """The maps written with the gain and black point folded in equal the plain maps folded
    afterwards by ``fold_gain``, image by image, up to float rounding."""
    denoiser = NoiseAdaptiveGuidedFilter()
    x_low = np.stack([_image('dark', (60, 47)), _image('noise', (60, 47))])[:, 0]
    factor = np.concatenate([_factor((20, 16))] * 2)
    sigma = np.array([[0.01, 0.02, 0.0], [0.03, 0.0, 0.01]], np.float32)
    gain = np.array([2.5, 1.25], np.float32)
    folded = guided_filter_coefficients(denoiser, x_low, factor, sigma, 8, threads=2,
                                        fold=gain_fold_constants(gain, black))
    expected = fold_gain(tuple(np.array(m) for m in guided_filter_coefficients(
        denoiser, x_low, factor, sigma, 8)), gain, black)
    for got, want in zip(folded, expected):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    scale, norm, shift = gain_fold_constants(gain, black).T
    k = 0 if black is None else black
    np.testing.assert_allclose(scale, gain / (1 - k), rtol=1e-6)
    np.testing.assert_allclose(norm * (1 - k), 1, rtol=1e-6)
    np.testing.assert_allclose(shift, gain * k / (1 - k), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize('values', [np.linspace(0, 0.1, 1000), np.zeros(500), np.full(300, 0.5),
                                    np.round(np.random.default_rng(0).random(2000), 2),
                                    np.random.default_rng(1).random(5000) * 1e-3, [0.02]])
@pytest.mark.parametrize('rank_share', [0.0, 0.01, 0.5, 1.0])
def test_capped_nth_smallest(values, rank_share):
    values = np.asarray(values, np.float32)
    rank = max(1, int(rank_share * values.size))
    for cap in (np.float32(0.05), np.float32(0)):
        expected = min(np.sort(values)[rank - 1], cap)
        assert _capped_nth_smallest(values, rank, cap) == expected


@pytest.mark.parametrize('order', ['random', 'ascending', 'descending'])
@pytest.mark.parametrize('rank', [1, 130, 700])
def test_capped_nth_smallest_of_many(order, rank):
    """Enough values for the bound from block minima (its path, and its fallbacks where the
    bound reaches the cap), exact against a sort; ties included."""
    rng = np.random.default_rng(rank)
    values = (np.round(rng.random(70_000) * 0.2, 3) ** 2).astype(np.float32)
    if order != 'random':
        values = np.sort(values)
        values = values[::-1].copy() if order == 'descending' else values
    for cap in (np.float32(1), np.float32(1e-3), np.float32(0)):
        expected = min(np.sort(values)[rank - 1], cap)
        assert _capped_nth_smallest(values, rank, cap) == expected


@pytest.mark.parametrize('tie', [0.0, 0.1])
@pytest.mark.parametrize('rank', [1, 130, 20_000])
def test_nth_smallest_among_many_ties_is_exact_and_fast(tie, rank):
    """A dark frame's black background: tens of thousands of cells at exactly one value (0),
    where bisection alone halved down to adjacent floats (~150 passes, 2-4 ms per 1080p
    channel): exact against a sort, and at most a few passes' time."""
    rng = np.random.default_rng(rank)
    values = (0.2 + rng.random(130_000) * 0.5).astype(np.float32)
    values[rng.random(values.size) < 0.3] = tie  # ~39,000 ties, also among the block minima
    values[:50] = np.float32(tie) / 2  # a few values below the ties
    expected = np.sort(values)[rank - 1]
    for search in (_capped_nth_smallest, _bisected_nth_smallest):
        assert search(values, rank, np.float32(1)) == expected
    if tie == 0:  # the halvings towards 0 that made it slow
        start = time.perf_counter()
        for _ in range(10):
            _capped_nth_smallest(values, rank, np.float32(1))
        # A few passes over the values (each under 0.1 ms here); ~150 took 2-4 ms.
        assert (time.perf_counter() - start) / 10 < 1.5e-3


def _assert_within_one_level(got, expected):
    assert got.shape == expected.shape and got.dtype == expected.dtype
    diff = np.abs(got.astype(np.int64) - expected.astype(np.int64))
    assert diff.max() <= 1
    # uint16 levels are 257x finer: the full-resolution pass's float rounding flips more of
    # them (0.4 % here, the same with the PyTorch coefficients).
    assert (diff == 0).mean() >= (0.998 if got.dtype == np.uint8 else 0.99)


@pytest.fixture(scope='module')
def default_model():
    return init_enhancer()


@pytest.mark.parametrize('name', ['coffee', 'astronaut', 'chelsea'])
@pytest.mark.parametrize('dark', [True, False])
def test_default_model_on_photos_matches_reference(default_model, name, dark):
    frames = _demo(name, dark)[None]
    _assert_within_one_level(enhance_frames(default_model, frames),
                             enhance_batch(default_model, frames, fast=False))


@pytest.mark.parametrize('bgr', [False, True])
@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('size', [(1, 1), (37, 61), (13, 250)])
def test_default_model_odd_sizes_and_batches(default_model, size, dtype, bgr):
    frames = np.stack([_demo('coffee', True, size), _demo('chelsea', False, size)])
    if dtype == np.uint16:
        frames = frames.astype(np.uint16) * 257
    fast = enhance_frames(default_model, np.ascontiguousarray(frames[..., ::-1]) if bgr
                          else frames, bgr=bgr)
    if bgr:
        fast = fast[..., ::-1]
    _assert_within_one_level(fast, enhance_batch(default_model, frames, fast=False))


def test_numba_path_for_the_exact_classes_only(monkeypatch):
    model = random_enhancer(scale_factor=12, exposure_control=dict(type='CurveExposureControl'),
                            denoiser=dict(type='NoiseAdaptiveGuidedFilter'))
    frames = _demo('coffee', True, (48, 72))[None]
    reference = enhance_batch(model, frames, fast=False)

    def fail(*args, **kwargs):
        raise AssertionError('the torch method ran')

    with monkeypatch.context() as patch:
        patch.setattr(CurveExposureControl, 'forward', fail)
        patch.setattr(NoiseAdaptiveGuidedFilter, 'coefficients', fail)
        _assert_within_one_level(enhance_frames(model, frames), reference)

    class Control(CurveExposureControl):
        pass

    class Denoiser(NoiseAdaptiveGuidedFilter):
        pass

    calls = []
    model.exposure_control.__class__ = Control
    model.denoiser.__class__ = Denoiser
    monkeypatch.setattr(Control, 'forward', lambda self, *args: calls.append('exposure')
                        or CurveExposureControl.forward(self, *args))
    monkeypatch.setattr(Denoiser, 'coefficients', lambda self, *args: calls.append('denoiser')
                        or NoiseAdaptiveGuidedFilter.coefficients(self, *args))
    _assert_within_one_level(enhance_frames(model, frames), reference)
    assert calls == ['exposure', 'denoiser']
