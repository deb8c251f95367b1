"""The situations mmdet's and mmseg's own data-preprocessor tests exercise, run on the stock
preprocessor and on ours side by side.

Their test files are not installed with the packages (nor kept in this repository), so each case
is re-expressed here as a comparison: with a zero factor map ours must return exactly what the
stock one returns (inputs bit for bit, and every data sample field: metainfo, padded masks and
semantic maps, boxes), and with a brightening enhancer everything but the image pixels must
still be identical. Their checks of sizes and padding are repeated on top.
"""
import copy

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.structures import BaseDataElement

from mmlowlight.registry import MODELS
from .test_low_light_data_preprocessors import brightening_factor_, zero_factor_

pytest.importorskip('mmdet.models.data_preprocessors')
pytest.importorskip('mmseg.models')
from mmdet.structures import DetDataSample  # noqa: E402
from mmdet.testing import demo_mm_inputs  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

STOCK = dict(det='mmdet.DetDataPreprocessor', seg='mmseg.SegDataPreProcessor')
OURS = dict(det='mmlowlight.LowLightDetDataPreprocessor',
            seg='mmlowlight.LowLightSegDataPreProcessor')


def build_both(task, factor, **args):
    stock = MODELS.build(dict(type=STOCK[task], **copy.deepcopy(args)))
    ours = MODELS.build(dict(type=OURS[task], enhancer=dict(type='SGZEnhancer', scale_factor=12),
                             enhancer_checkpoint=False, **copy.deepcopy(args)))
    ours.init_weights()
    (zero_factor_ if factor == 'zero' else brightening_factor_)(ours)
    return stock, ours


def same(a, b, where='') -> None:
    """Recursive equality of preprocessor outputs (tensors bit for bit)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype, where
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), where
    elif isinstance(a, BaseDataElement):
        assert type(a) is type(b), where
        same(dict(a.metainfo), dict(b.metainfo), f'{where}.metainfo')
        assert sorted(a.keys()) == sorted(b.keys()), where
        for key in a.keys():
            same(a.get(key), b.get(key), f'{where}.{key}')
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            same(a[key], b[key], f'{where}[{key}]')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f'{where}[{i}]')
    elif hasattr(a, 'masks'):  # BitmapMasks
        same(a.masks, b.masks, f'{where}.masks')
    elif hasattr(a, 'tensor'):  # box types
        same(a.tensor, b.tensor, f'{where}.tensor')
    else:
        assert a == b, where


def run_both(stock, ours, data, training=False, factor='zero'):
    """Outputs of both on copies of ``data``; checks ours against the stock one."""
    expected = stock(copy.deepcopy(data), training=training)
    result = ours(copy.deepcopy(data), training=training)
    if factor == 'zero':
        same(result, expected, 'output')
    else:
        same(result['data_samples'], expected['data_samples'], 'data_samples')
        assert result['inputs'].shape == expected['inputs'].shape
        assert not torch.equal(result['inputs'], expected['inputs']), 'not enhanced'
    return result


FACTORS = pytest.mark.parametrize('factor', ['zero', 'brightening'])


def test_init_checks_of_the_parents_still_apply():
    for task in ('det', 'seg'):
        with pytest.raises(AssertionError):
            build_both(task, 'zero', mean=[0, 0, 0])  # std missing
        with pytest.raises(AssertionError):
            build_both(task, 'zero', bgr_to_rgb=True, rgb_to_bgr=True)
        stock, ours = build_both(task, 'zero')
        assert not ours._enable_normalize and not hasattr(ours, 'mean')
        stock, ours = build_both(task, 'zero', mean=[0, 0, 0], std=[1, 1, 1])
        assert ours._enable_normalize and torch.equal(ours.mean, stock.mean)


@FACTORS
@pytest.mark.parametrize('bgr_to_rgb', [False, True])
def test_det_single_image_with_a_bare_sample(factor, bgr_to_rgb):
    stock, ours = build_both('det', factor, mean=[0., 0., 0.], std=[1., 1., 1.],
                             bgr_to_rgb=bgr_to_rgb)
    data = dict(inputs=[torch.randint(0, 256, (3, 11, 10))], data_samples=[DetDataSample()])
    result = run_both(stock, ours, data, factor=factor)
    assert result['inputs'].shape == (1, 3, 11, 10) and len(result['data_samples']) == 1


@FACTORS
def test_det_padding_without_data_samples(factor):
    stock, ours = build_both('det', factor, mean=[0., 0., 0.], std=[1., 1., 1.],
                             bgr_to_rgb=True)
    data = dict(inputs=[torch.randint(0, 256, (3, 10, 11)), torch.randint(0, 256, (3, 9, 14))])
    result = run_both(stock, ours, data, factor=factor)
    assert result['inputs'].shape == (2, 3, 10, 14) and result['data_samples'] is None


@FACTORS
def test_det_pad_size_divisor_with_one_shared_sample(factor):
    stock, ours = build_both('det', factor, mean=[0., 0., 0.], std=[1., 1., 1.],
                             pad_size_divisor=5)
    data = dict(inputs=[torch.randint(0, 256, (3, 10, 11)), torch.randint(0, 256, (3, 9, 24))],
                data_samples=[DetDataSample()] * 2)  # one object twice (cast_data copies it)
    result = run_both(stock, ours, data, factor=factor)
    assert result['inputs'].shape == (2, 3, 10, 25)
    assert [s.pad_shape for s in result['data_samples']] == [(10, 15), (10, 25)]


@FACTORS
def test_det_stacked_tensor_input(factor):
    stock, ours = build_both('det', factor, pad_size_divisor=10)
    data = dict(inputs=torch.randint(0, 256, (2, 3, 52, 65), dtype=torch.uint8),
                data_samples=[DetDataSample(), DetDataSample()])
    result = run_both(stock, ours, data, factor=factor)
    assert result['inputs'].shape == (2, 3, 60, 70)
    assert [s.pad_shape for s in result['data_samples']] == [(60, 70), (60, 70)]


def masks_and_semantics():
    data = demo_mm_inputs(2, [[3, 10, 11], [3, 9, 24]], with_mask=True, with_semantic=True,
                          use_box_type=True)
    data['data_samples'][0].gt_sem_seg.sem_seg = torch.randint(0, 256, (1, 10, 11))
    data['data_samples'][1].gt_sem_seg.sem_seg = torch.randint(0, 256, (1, 9, 24))
    return data


def assert_masks_and_semantics_padded_to(result, data, shape):
    for sample, original in zip(result['data_samples'], data['data_samples']):
        assert sample.gt_instances.masks.masks.shape[-2:] == shape
        assert sample.gt_sem_seg.sem_seg.shape[-2:] == shape
        assert sample.gt_instances.masks.masks.sum() == original.gt_instances.masks.masks.sum()
        assert sample.gt_sem_seg.sem_seg.sum() == original.gt_sem_seg.sem_seg.sum()


@FACTORS
def test_det_pads_masks_and_semantic_maps_in_training(factor):
    stock, ours = build_both('det', factor, pad_mask=True, mask_pad_value=0, pad_seg=True,
                             seg_pad_value=0)
    data = masks_and_semantics()
    result = run_both(stock, ours, data, training=True, factor=factor)
    assert_masks_and_semantics_padded_to(result, data, (10, 24))


@FACTORS
@pytest.mark.parametrize('size, expected, pad_in_preprocessor', [
    ((32, 32), (32, 32), False), ((32, 32), (32, 32), True),
    ((5, 5), (10, 24), True),  # smaller than the batch: no padding
])
def test_det_batch_fixed_size_pad(factor, size, expected, pad_in_preprocessor):
    augment = dict(type='mmdet.BatchFixedSizePad', size=size, img_pad_value=0, pad_mask=True,
                   mask_pad_value=0, pad_seg=True, seg_pad_value=0)
    stock, ours = build_both('det', factor, pad_mask=pad_in_preprocessor,
                             pad_seg=pad_in_preprocessor, mask_pad_value=0, seg_pad_value=0,
                             batch_augments=[augment])
    data = masks_and_semantics()
    result = run_both(stock, ours, data, training=True, factor=factor)
    assert result['inputs'].shape[-2:] == expected
    assert_masks_and_semantics_padded_to(result, data, expected)


@FACTORS
def test_det_batch_sync_random_resize(factor):
    augment = dict(type='mmdet.BatchSyncRandomResize', random_size_range=(320, 320),
                   size_divisor=32, interval=1)
    stock, ours = build_both('det', factor, batch_augments=[augment])
    hub = MessageHub.get_instance('test_peer_batch_sync_random_resize')
    data = demo_mm_inputs(2, [[3, 128, 128], [3, 128, 128]], use_box_type=True)
    for iteration, training, size in [(0, True, 128), (1, True, 320), (1, False, 128)]:
        hub.update_info('iter', iteration)
        result = run_both(stock, ours, data, training=training, factor=factor)
        assert result['inputs'].shape == (2, 3, size, size)


@FACTORS
def test_det_inside_mmdet_multi_branch_preprocessor(factor):
    branches = {
        'sup': [(224, 224)],
        'unsup_teacher': [(400, 600), (600, 400)],
        'unsup_student': [(300, 200), (200, 300)],
    }
    inner = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                 pad_size_divisor=32)
    stock = MODELS.build(dict(type='mmdet.MultiBranchDataPreprocessor',
                              data_preprocessor=dict(type='mmdet.DetDataPreprocessor', **inner)))
    ours = MODELS.build(dict(
        type='mmdet.MultiBranchDataPreprocessor',
        data_preprocessor=dict(type=OURS['det'], enhancer=dict(type='SGZEnhancer',
                                                               scale_factor=12),
                               enhancer_checkpoint=False, **inner)))
    low_light = ours.data_preprocessor
    low_light.init_weights()
    (zero_factor_ if factor == 'zero' else brightening_factor_)(low_light)
    data = dict(inputs={k: [torch.randint(0, 256, (3, h, w)) for h, w in v]
                        for k, v in branches.items()},
                data_samples={k: [DetDataSample() for _ in v] for k, v in branches.items()})
    expected = stock(copy.deepcopy(data), training=True)
    result = ours(copy.deepcopy(data), training=True)
    assert {k: tuple(v.shape) for k, v in result['inputs'].items()} == {
        'sup': (1, 3, 224, 224), 'unsup_teacher': (2, 3, 608, 608),
        'unsup_student': (2, 3, 320, 320)}
    same(result['data_samples'], expected['data_samples'], 'data_samples')
    if factor == 'zero':
        same(result['inputs'], expected['inputs'], 'inputs')
    single = dict(inputs=[torch.randint(0, 256, (3, 64, 64))], data_samples=[DetDataSample()])
    run_both(stock, ours, single, factor=factor)


@FACTORS
def test_seg_training_pads_to_size_with_a_shared_sample(factor):
    stock, ours = build_both('seg', factor, mean=[0, 0, 0], std=[1, 1, 1], size=(20, 20))
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 10, (1, 11, 10)))
    data = dict(inputs=[torch.randint(0, 256, (3, 11, 10)), torch.randint(0, 256, (3, 11, 10))],
                data_samples=[sample, sample])
    result = run_both(stock, ours, data, training=True, factor=factor)
    assert result['inputs'].shape == (2, 3, 20, 20) and len(result['data_samples']) == 2


@FACTORS
def test_seg_predict_pads_by_test_cfg(factor):
    stock, ours = build_both('seg', factor, mean=[0, 0, 0], std=[1, 1, 1], size=(20, 20),
                             test_cfg=dict(size_divisor=15))
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 10, (1, 11, 10)))
    data = dict(inputs=[torch.randint(0, 256, (3, 11, 10))], data_samples=[sample])
    result = run_both(stock, ours, data, training=False, factor=factor)
    assert result['inputs'].shape[2] % 15 == 0 and result['inputs'].shape[3] % 15 == 0


def test_seg_predict_rejects_mixed_sizes_like_mmseg():
    stock, ours = build_both('seg', 'zero')
    data = dict(inputs=[torch.randint(0, 256, (3, 11, 10)), torch.randint(0, 256, (3, 12, 10))],
                data_samples=[SegDataSample(), SegDataSample()])
    for preprocessor in (stock, ours):
        with pytest.raises(AssertionError, match='same'):
            preprocessor(copy.deepcopy(data), training=False)
