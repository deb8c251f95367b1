import numpy as np
import pytest
import torch

from mmlowlight.apis import enhance, enhance_batch
from mmlowlight.models.enhancers import SGZEnhancer


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return SGZEnhancer(scale_factor=2).eval()


def _dark(shape, dtype=np.uint8, seed=0):
    return np.random.default_rng(seed).integers(0, 60 * (257 if dtype == np.uint16 else 1),
                                                shape, dtype=dtype)


def test_list_and_batch_equal_single(model):
    images = [_dark((6, 8, 3), seed=0), _dark((6, 8, 3), seed=1), _dark((5, 9, 3), seed=2),
              _dark((6, 8, 3), seed=3)]
    singles = [enhance(model, img) for img in images]
    for batch_size in (1, 2, 4):
        listed = enhance(model, images, batch_size=batch_size)
        assert isinstance(listed, list) and len(listed) == 4
        for got, expected in zip(listed, singles):
            np.testing.assert_array_equal(got, expected)
    stacked = enhance(model, np.stack([images[0], images[1]]))
    assert stacked.shape == (2, 6, 8, 3)
    np.testing.assert_array_equal(stacked[1], singles[1])


def test_16bit_keeps_depth_and_agrees_with_8bit(model):
    img8 = _dark((6, 8, 3))
    img16 = img8.astype(np.uint16) * 257
    out8, out16 = enhance(model, img8), enhance(model, img16)
    assert out16.dtype == np.uint16 and out16.shape == img16.shape
    assert np.abs(out16 / 257.0 - out8).max() <= 0.51


def test_batch_rejects_wrong_layout(model):
    with pytest.raises(TypeError, match='N x H x W x 3'):
        enhance_batch(model, np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='batch_size'):
        enhance(model, [_dark((2, 2, 3))], batch_size=0)


class _OwnForward(SGZEnhancer):

    def forward(self, x):
        return super().forward(x)


def test_dispatch_to_the_fast_runtime(model, monkeypatch):
    from mmlowlight import ops
    from mmlowlight.apis.inference import fast_path_unsupported
    calls = []
    real = ops.enhance_frames
    monkeypatch.setattr(ops, 'enhance_frames',
                        lambda *args, **kwargs: calls.append(kwargs) or real(*args, **kwargs))
    batch = _dark((2, 37, 61, 3))
    fast = enhance_batch(model, batch)
    assert len(calls) == 1
    reference = enhance_batch(model, batch, fast=False)
    assert len(calls) == 1  # fast=False: the PyTorch reference
    assert np.abs(fast.astype(int) - reference).max() <= 1
    bgr = enhance_batch(model, np.ascontiguousarray(batch[..., ::-1]), bgr=True)
    assert calls[-1]['bgr'] and np.abs(bgr[..., ::-1].astype(int) - reference).max() <= 1
    np.testing.assert_array_equal(
        enhance_batch(model, np.ascontiguousarray(batch[..., ::-1]), bgr=True, fast=False),
        reference[..., ::-1])
    # Configurations the runtime does not cover run the reference, or fail when forced.
    own = _OwnForward(scale_factor=2).eval()
    own.load_state_dict(model.state_dict())
    assert 'overrides SGZEnhancer.forward' in fast_path_unsupported(own)
    np.testing.assert_array_equal(enhance_batch(own, batch), reference)
    training = SGZEnhancer(scale_factor=2).train()
    training.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(enhance_batch(training, batch), reference)
    assert len(calls) == 2
    with pytest.raises(ValueError, match='training mode'):
        enhance_batch(training, batch, fast=True)


@pytest.mark.parametrize('fast', [None, False])
def test_light_transform_sets_the_night_level(fast):
    from mmlowlight.apis import init_enhancer
    rng = np.random.default_rng(0)
    frames = np.clip(np.linspace(4, 24, 96)[None, :, None] + rng.normal(0, 2, (64, 96, 3)),
                     0, 255)
    frames[10:16, 20:30] = 120  # a lamp: the night level applies in full
    frames = frames.astype(np.uint8)[None]
    model = init_enhancer(exposure_control=dict(light_level=0.26))
    seen = []
    kept = enhance_batch(model, frames, fast=fast, light_transform=lambda w: seen.append(w) or w)
    np.testing.assert_allclose(seen[0], [1.0])
    assert np.array_equal(kept, enhance_batch(model, frames, fast=fast))
    off = enhance_batch(model, frames, fast=fast, light_transform=np.zeros_like)
    model.exposure_control.light_level = None
    assert np.array_equal(off, enhance_batch(model, frames, fast=fast))
    assert kept.mean() < off.mean() - 15
    calls = []
    enhance_batch(model, frames, fast=fast, light_transform=calls.append)
    assert not calls  # no night level: not called
