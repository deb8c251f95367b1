import numpy as np
import pytest
from mmcv.transforms import RandomResize

from mmlowlight.datasets.transforms import (PackEnhanceInputs, PairedRandomCrop, PairedRandomFlip,
                                            PairedResize)
from mmlowlight.registry import TRANSFORMS


def _pair(height=12, width=16):
    img = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)
    # The reference is a pixel-wise function of the low image, so alignment is checkable.
    return dict(img=img, gt_img=255 - img, img_shape=(height, width), img_path='x.png')


def _assert_aligned(results):
    np.testing.assert_array_equal(results['gt_img'], 255 - results['img'])


def test_random_crop_keeps_pair_aligned_and_varies():
    crop = PairedRandomCrop(crop_size=(6, 4))
    boxes = set()
    for seed in range(10):
        np.random.seed(seed)
        out = crop(_pair())
        assert out['img'].shape == (4, 6, 3) and out['img_shape'] == (4, 6)
        _assert_aligned(out)
        x1, y1, x2, y2 = out['crop_bbox']
        np.testing.assert_array_equal(out['img'], _pair()['img'][y1:y2, x1:x2])
        boxes.add(out['crop_bbox'])
    assert len(boxes) > 1


def test_random_crop_enlarges_small_images():
    out = PairedRandomCrop(crop_size=20)(_pair(12, 16))
    assert out['img'].shape == (20, 20, 3) and out['gt_img'].shape == (20, 20, 3)


def test_random_crop_without_reference_and_bad_size():
    out = PairedRandomCrop(crop_size=4)(dict(img=_pair()['img']))
    assert out['img'].shape == (4, 4, 3) and 'gt_img' not in out
    with pytest.raises(ValueError, match='crop_size'):
        PairedRandomCrop(crop_size=(0, 4))


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_keeps_pair_aligned(direction):
    out = PairedRandomFlip(prob=1.0, direction=direction)(_pair())
    assert out['flip'] and out['flip_direction'] == direction
    assert not np.array_equal(out['img'], _pair()['img'])
    _assert_aligned(out)


def test_resize_and_random_resize_resize_the_reference():
    out = PairedResize(scale=(8, 6))(_pair())
    assert out['img'].shape == (6, 8, 3) and out['gt_img'].shape == (6, 8, 3)
    random_resize = RandomResize(scale=(16, 12), ratio_range=(0.5, 1.0),
                                 resize_type='mmlowlight.PairedResize', keep_ratio=True)
    out = random_resize(_pair())
    assert out['gt_img'].shape == out['img'].shape


def test_pack_inputs_layout():
    results = dict(_pair(), ori_shape=(12, 16), flip=False)
    packed = PackEnhanceInputs()(results)
    assert packed['inputs'].shape == (3, 12, 16)
    np.testing.assert_array_equal(packed['inputs'].permute(1, 2, 0).numpy(), results['img'])
    sample = packed['data_samples']
    assert sample.img_path == 'x.png' and sample.ori_shape == (12, 16) and sample.flip is False
    np.testing.assert_array_equal(sample.gt_img.permute(1, 2, 0).numpy(), results['gt_img'])
    with pytest.raises(ValueError, match='x.png'):
        PackEnhanceInputs()(dict(img=np.zeros((4, 4), np.uint8), img_path='x.png'))


def test_registered_under_mmlowlight():
    for name in ('PairedRandomCrop', 'PairedRandomFlip', 'PairedResize', 'PackEnhanceInputs',
                 'LoadReferenceImage'):
        assert TRANSFORMS.get(name) is not None
