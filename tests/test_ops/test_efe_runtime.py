import numpy as np
import pytest
import torch

from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.ops import EFE_BACKENDS, default_efe_backend, efe_forward
from mmlowlight.ops.efe_runtime import (BACKEND_ENV, ONNX_TOLERANCE, TILE_PIXELS, _onnx_session,
                                        onnx_available, plan_tiles, receptive_radius)

needs_onnx = pytest.mark.skipif(not onnx_available(), reason='onnx/onnxruntime not installed')


def _model(conv_type='dsc', seed=0):
    torch.manual_seed(seed)
    model = SGZEnhancer(conv_type=conv_type)
    model.init_weights()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(10)  # a factor map far from zero
    return model.eval()


def _small(n=2, h=9, w=16):
    return np.random.default_rng(0).random((n, 3, h, w), dtype=np.float32)


@pytest.mark.parametrize('backend', EFE_BACKENDS)
@pytest.mark.parametrize('conv_type', ['dsc', 'conv'])
def test_backends_agree_with_the_module(backend, conv_type):
    if backend == 'onnxruntime' and not onnx_available():
        pytest.skip('onnx/onnxruntime not installed')
    model = _model(conv_type)
    small = _small()
    with torch.no_grad():
        expected = model.efe(torch.from_numpy(small))
    got = efe_forward(model.efe, small, backend=backend)
    assert got.shape == expected.shape and got.dtype == torch.float32
    assert expected.abs().max() > 0.1
    torch.testing.assert_close(got, expected, rtol=0, atol=ONNX_TOLERANCE)


@needs_onnx
def test_session_cached_and_invalidated_by_new_weights():
    model = _model()
    first = _onnx_session(model.efe, 1)
    assert first is not None and _onnx_session(model.efe, 1) is first
    assert _onnx_session(model.efe, 2) is not first  # per thread count
    spinning = _onnx_session(model.efe, 2, spin=True)
    assert spinning is not _onnx_session(model.efe, 2)  # and per spinning
    assert _onnx_session(model.efe, 2, spin=True) is spinning
    model.load_state_dict(_model(seed=1).state_dict())
    small = _small(1, 4, 5)
    with torch.no_grad():
        expected = model.efe(torch.from_numpy(small))
    torch.testing.assert_close(efe_forward(model.efe, small, threads=1), expected, rtol=0,
                               atol=1e-5)


@needs_onnx
def test_spinning_changes_no_value():
    model = _model()
    # 160 x 90: one call on onnxruntime's own two threads, the plan that spins.
    small = _small(1, 90, 160)
    spun = efe_forward(model.efe, small, backend='onnxruntime', threads=2, spin=True)
    still = efe_forward(model.efe, small, backend='onnxruntime', threads=2, spin=False)
    assert torch.equal(spun, still)


@needs_onnx
def test_other_architectures_fall_back_to_torch():
    model = _model()
    # A block that the graph writer does not know.
    model.efe.blocks[4] = torch.nn.Sequential(torch.nn.Conv2d(64, 32, 3, padding=1),
                                              torch.nn.Sigmoid())
    small = _small(1, 6, 6)
    with pytest.warns(UserWarning, match='using PyTorch'):
        got = efe_forward(model.efe, small, backend='onnxruntime')
    with torch.no_grad():
        torch.testing.assert_close(got, model.efe(torch.from_numpy(small)))


def test_backend_choice(monkeypatch):
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    assert default_efe_backend() == ('onnxruntime' if onnx_available() else 'torch')
    monkeypatch.setenv(BACKEND_ENV, 'torch-nchw')
    assert default_efe_backend() == 'torch-nchw'
    monkeypatch.setenv(BACKEND_ENV, 'tensorrt')
    with pytest.raises(ValueError, match="'tensorrt'"):
        default_efe_backend()
    with pytest.raises(ValueError, match='unknown EFE backend'):
        efe_forward(_model().efe, _small(), backend='tvm')


@pytest.mark.parametrize('backend', ['onnxruntime', 'torch'])
@pytest.mark.parametrize('threads', [1, 2, 3])
def test_tiles_give_the_same_factor_map(backend, threads):
    if backend == 'onnxruntime' and not onnx_available():
        pytest.skip('onnx/onnxruntime not installed')
    model = _model()
    small = _small(2, 45, 97)
    assert receptive_radius(model.efe) == 7
    with torch.no_grad():
        expected = model.efe(torch.from_numpy(small))
    for max_pixels in (None, 3 * 16 * 15, 2 * 40 * 40, 10 ** 6):
        tiled = efe_forward(model.efe, small, backend=backend, threads=threads,
                            max_pixels=max_pixels)
        assert tiled.shape == expected.shape and tiled.is_contiguous()
        torch.testing.assert_close(tiled, expected, rtol=0, atol=ONNX_TOLERANCE)


def test_tile_plan():
    # 1080p at scale 12 on 2 threads: two halves side by side (one context strip each).
    grid = plan_tiles(1, 90, 160, 7, 2)
    assert (grid.rows, grid.cols) == (1, 2)
    # 4K: cache-sized tiles, every output pixel covered exactly once.
    grid = plan_tiles(1, 180, 320, 7, 2)
    covered = np.zeros((180, 320), int)
    for (top, left, h, w), (y0, y1, x0, x1) in grid.windows(180, 320):
        covered[top:top + h, left:left + w] += 1
        assert (y1 - y0) * (x1 - x0) <= TILE_PIXELS
        assert y0 == max(0, top - 7) and x1 == min(320, left + w + 7)
    assert (covered == 1).all() and grid.rows * grid.cols > 2
    # A budget below any tile's size: the smallest tiles, not an error.
    assert plan_tiles(1, 30, 30, 7, 2, max_tile_pixels=10).tile_h >= 1
    # One thread, small thumbnail: one call.
    assert plan_tiles(1, 20, 30, 7, 1)[:2] == (1, 1)
