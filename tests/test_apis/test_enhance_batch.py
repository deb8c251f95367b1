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
