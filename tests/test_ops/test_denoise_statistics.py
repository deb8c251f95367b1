import numpy as np
import pytest
import torch

from mmlowlight.apis.inference import to_model_input
from mmlowlight.models.denoisers import NoiseAdaptiveGuidedFilter
from mmlowlight.ops.denoise_statistics import (denoiser_affine_maps, frame_statistics,
                                               noise_differences_sigma, pool_frames)


def _frames(shape, dtype=np.uint8, high=60, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, high, shape).astype(dtype)


@pytest.mark.parametrize('shape', [(1, 1, 1, 3), (2, 37, 53, 3), (1, 64, 96, 3)])
@pytest.mark.parametrize('scale', [1, 4, 12])
def test_pool_matches_reference(shape, scale):
    frames = _frames(shape)
    reference = NoiseAdaptiveGuidedFilter(scale=scale).pool(to_model_input(frames, 'cpu'))
    np.testing.assert_allclose(pool_frames(frames, scale, threads=2), reference.numpy(),
                               atol=1e-6, rtol=0)


@pytest.mark.parametrize('scale', [16, 17, 200, 300])
def test_pool_of_bright_frames_at_large_scales(scale):
    """Full-range values over many pixels: the sums over a cell (uint16 up to 16 x 16 pixels
    of uint8, wider beyond) must not overflow."""
    frames = np.full((1, 310, 20, 3), 255, np.uint8)
    frames[0, ::7] = _frames((1, 310, 20, 3), high=256)[0, ::7]
    reference = NoiseAdaptiveGuidedFilter(scale=scale).pool(to_model_input(frames, 'cpu'))
    np.testing.assert_allclose(pool_frames(frames, scale), reference.numpy(), atol=1e-6, rtol=0)


def test_pool_bgr_and_uint16():
    frames = _frames((1, 30, 41, 3), np.uint16, high=65535)
    reference = NoiseAdaptiveGuidedFilter(scale=4).pool(to_model_input(frames, "cpu")).numpy()
    bgr = np.ascontiguousarray(frames[..., ::-1])
    np.testing.assert_allclose(pool_frames(bgr, 4, bgr=True), reference, atol=1e-6, rtol=0)


@pytest.mark.parametrize('shape', [(2, 40, 50, 3), (1, 9, 2, 3)])
def test_noise_matches_reference(shape):
    frames = _frames(shape)
    denoiser = NoiseAdaptiveGuidedFilter(noise_row_step=3)
    reference = denoiser.estimate_noise(to_model_input(frames, 'cpu'))
    args = (3, denoiser.edge_cut, denoiser.mean_abs_to_sigma)
    torch.testing.assert_close(noise_differences_sigma(frames, *args), reference)
    bgr = np.ascontiguousarray(frames[..., ::-1])
    torch.testing.assert_close(noise_differences_sigma(bgr, *args, bgr=True), reference)


@pytest.mark.parametrize('bgr', [False, True])
@pytest.mark.parametrize('detail_radius', [0, 1])
def test_affine_maps_give_the_reference_within_one_grey_level(bgr, detail_radius):
    frames = _frames((2, 48, 72, 3), high=40)
    denoiser = NoiseAdaptiveGuidedFilter(detail_radius=detail_radius)
    x = to_model_input(frames, 'cpu')
    factor = -torch.rand(2, 3, 4, 6)
    reference = denoiser(x, factor)
    source = np.ascontiguousarray(frames[..., ::-1]) if bgr else frames
    maps = denoiser_affine_maps(denoiser, source, factor, 8, bgr=bgr, threads=2)
    # The fused curve pass takes (a, b) for the single-scale filter, (a, b, c) for two scales.
    assert len(maps) == (2 if detail_radius == 0 else 3)
    if bgr:
        maps = tuple(m[:, ::-1].copy() for m in maps)
    maps = [torch.from_numpy(m) for m in maps]
    if detail_radius == 0:
        maps.append(torch.zeros_like(maps[0]))
    fast = denoiser.apply_coefficients(x, *maps)
    assert (fast - reference).abs().max() * 255 < 1e-3


@pytest.mark.parametrize('bgr', [False, True])
def test_precomputed_statistics_give_the_same_maps(bgr):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 60, (2, 37, 61, 3), dtype=np.uint8)
    denoiser = NoiseAdaptiveGuidedFilter()
    factor = -torch.rand(2, 3, 3, 5, generator=torch.Generator().manual_seed(0))
    statistics = frame_statistics(denoiser, frames, bgr=bgr, threads=2)
    pooled, sigma = statistics
    assert pooled.shape == (2, 3, 5, 8) and sigma.shape == (2, 3, 1, 1)
    with_statistics = denoiser_affine_maps(denoiser, frames, factor, 8, bgr=bgr,
                                           statistics=statistics)
    without = denoiser_affine_maps(denoiser, frames, factor, 8, bgr=bgr)
    for got, expected in zip(with_statistics, without):
        np.testing.assert_array_equal(got, expected)
