"""EnhanceDataPreprocessor: collated uint8 BGR images -> float RGB [0, 1] batches."""
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.structures import BaseDataElement

from mmlowlight.models.data_preprocessors import EnhanceDataPreprocessor
from mmlowlight.registry import MODELS


def _sample(height=4, width=5, paired=True, seed=0):
    gen = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, height, width), dtype=torch.uint8, generator=gen)
    sample = BaseDataElement(metainfo=dict(img_path=f'img{seed}.png', ori_shape=(height, width)))
    if paired:
        sample.gt_img = torch.randint(0, 256, (3, height, width), dtype=torch.uint8,
                                      generator=gen)
    return dict(inputs=img, data_samples=sample)


def test_converts_bgr_uint8_to_rgb_unit_float():
    batch = pseudo_collate([_sample(seed=0), _sample(seed=1)])
    bgr = [img.clone() for img in batch['inputs']]
    gts = [s.gt_img.clone() for s in batch['data_samples']]
    out = MODELS.build(dict(type='mmlowlight.EnhanceDataPreprocessor'))(batch, training=True)
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 4, 5) and inputs.dtype == torch.float32
    for n in range(2):
        for c in range(3):
            assert torch.equal(inputs[n, c], bgr[n][2 - c].float() / 255)
            assert torch.equal(out['data_samples'][n].gt_img[c], gts[n][2 - c].float() / 255)
    assert out['data_samples'][1].img_path == 'img1.png'


def test_keeps_channel_order_without_conversion():
    batch = pseudo_collate([_sample(paired=False)])
    image = batch['inputs'][0].clone()
    out = EnhanceDataPreprocessor(bgr_to_rgb=False)(batch)
    assert torch.equal(out['inputs'][0], image.float() / 255)
    assert 'gt_img' not in out['data_samples'][0]


def test_accepts_stacked_tensors():
    uint8 = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    out = EnhanceDataPreprocessor()(dict(inputs=uint8))
    assert torch.equal(out['inputs'], uint8.flip(1).float() / 255)
    assert out['data_samples'] is None
    unit = torch.rand(2, 3, 4, 4)
    out = EnhanceDataPreprocessor(bgr_to_rgb=False)(dict(inputs=unit))
    assert torch.equal(out['inputs'], unit)


def test_errors_name_the_problem():
    preprocessor = EnhanceDataPreprocessor()
    batch = pseudo_collate([_sample(4, 5), _sample(6, 5)])
    with pytest.raises(ValueError, match=r'\(3, 4, 5\), \(3, 6, 5\)'):
        preprocessor(batch)
    with pytest.raises(ValueError, match='3 channels'):
        preprocessor(dict(inputs=[torch.zeros(1, 4, 4, dtype=torch.uint8)]))
    with pytest.raises(TypeError, match='uint8 or float'):
        preprocessor(dict(inputs=[torch.zeros(3, 4, 4, dtype=torch.int32)]))
