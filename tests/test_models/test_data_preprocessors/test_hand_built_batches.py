"""Hand-built batches (no data samples, bare samples, samples with metainfo) with a non-zero
enhancer: the padding is bit-identical to the stock preprocessor's, each image equals the enhancer
applied to that image alone, whatever metainfo the batch carries (issue 11)."""
import copy
import warnings

import pytest
import torch

from .test_low_light_data_preprocessors import MEAN, STD, brightening_factor_, build_pair

pytest.importorskip('mmdet.models.data_preprocessors')
pytest.importorskip('mmseg.models')
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

SIZES = [(40, 50), (30, 64), (52, 37)]  # all different: every image has its own padding
SEG_PAD = 255
# Pad with the mean colour, as the stock configs do: a mid grey that the enhancer would change
# (a pad value beyond white is clamped to 1, a fixed point of the curve, and hides mistakes).
DET_PAD = dict(pad_value=0)
SEG_PAD_VALUES = dict(pad_val=0, seg_pad_val=SEG_PAD)


def images(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8) for h, w in sizes]


def samples(kind, sizes, sample_type):
    if kind == 'none':
        return None
    if kind == 'bare':
        return [sample_type() for _ in sizes]
    return [sample_type(metainfo=dict(img_shape=(h, w), ori_shape=(h, w))) for h, w in sizes]


def det_batch(kind, sizes):
    data = dict(inputs=images(sizes))
    if kind != 'none':  # as in mmdet's own tests: no data_samples key at all
        data['data_samples'] = samples(kind, sizes, DetDataSample)
    return data


def seg_batch(kind, sizes, with_labels=True):
    data = dict(inputs=images(sizes), data_samples=samples(kind, sizes, SegDataSample))
    gen = torch.Generator().manual_seed(1)
    for sample, (h, w) in zip(data['data_samples'] or (), sizes):
        if with_labels:
            sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, h, w), generator=gen))
    return data


def enhanced_alone(low_light, image, bgr_to_rgb=True):
    """The enhancer applied to one image alone, normalised as the model input."""
    rgb = image.flip(0).float()[None] / 255  # images are loaded BGR
    with torch.no_grad():
        enhanced = low_light.enhancer(rgb)[0][0]
    model_order = enhanced if bgr_to_rgb else enhanced.flip(0)
    return (model_order * 255 - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(
        3, 1, 1)


def assert_padding_kept_and_images_enhanced(result, expected, sizes, low_light, raw_images,
                                            bgr_to_rgb=True):
    assert result.shape == expected.shape
    for i, (h, w) in enumerate(sizes):
        pad = torch.ones_like(result[i], dtype=torch.bool)
        pad[:, :h, :w] = False
        assert torch.equal(result[i][pad], expected[i][pad]), f'padding of image {i} changed'
        torch.testing.assert_close(result[i, :, :h, :w],
                                   enhanced_alone(low_light, raw_images[i], bgr_to_rgb),
                                   atol=1e-4, rtol=0)
        assert not torch.allclose(result[i, :, :h, :w], expected[i, :, :h, :w], atol=1e-2)


def run_both(vanilla, low_light, make, training):
    expected = vanilla(make(), training=training)
    with warnings.catch_warnings():
        warnings.filterwarnings('error', message='.*img_shape')  # consistent: no warning
        result = low_light(make(), training=training)
    return result, expected


@pytest.mark.parametrize('num', [1, 2, 3])
@pytest.mark.parametrize('kind', ['none', 'bare', 'meta'])
@pytest.mark.parametrize('training', [True, False])
def test_det_hand_built_batch(num, kind, training):
    sizes = SIZES[:num]
    vanilla, low_light = build_pair('det', shared=DET_PAD)
    brightening_factor_(low_light)
    result, expected = run_both(vanilla, low_light, lambda: det_batch(kind, sizes), training)
    assert result['inputs'].shape[-2:] == (64, 64)
    assert_padding_kept_and_images_enhanced(result['inputs'], expected['inputs'], sizes,
                                            low_light, images(sizes))
    if kind == 'none':
        assert result['data_samples'] is None and expected['data_samples'] is None
    else:
        for ours, theirs in zip(result['data_samples'], expected['data_samples']):
            assert ours.metainfo == theirs.metainfo


@pytest.mark.parametrize('num', [1, 2, 3])
@pytest.mark.parametrize('kind', ['bare', 'meta'])
@pytest.mark.parametrize('bgr_to_rgb', [True, False])
def test_seg_hand_built_training_batch_keeps_labels_aligned(num, kind, bgr_to_rgb):
    sizes = SIZES[:num]
    vanilla, low_light = build_pair('seg', bgr_to_rgb, shared=SEG_PAD_VALUES)
    brightening_factor_(low_light)
    result, expected = run_both(vanilla, low_light, lambda: seg_batch(kind, sizes), True)
    assert_padding_kept_and_images_enhanced(result['inputs'], expected['inputs'], sizes,
                                            low_light, images(sizes), bgr_to_rgb)
    for i, ((h, w), ours, theirs) in enumerate(
            zip(sizes, result['data_samples'], expected['data_samples'])):
        labels = ours.gt_sem_seg.data
        assert torch.equal(labels, theirs.gt_sem_seg.data)
        assert ours.metainfo == theirs.metainfo
        # The labels' padding lies exactly where the image's padding does.
        label_pad = labels[0] == SEG_PAD
        image_pad = torch.ones(labels.shape[-2:], dtype=torch.bool)
        image_pad[:h, :w] = False
        assert torch.equal(label_pad, image_pad), f'labels of image {i} misaligned'


@pytest.mark.parametrize('num', [1, 2, 3])
@pytest.mark.parametrize('kind', ['none', 'bare', 'meta'])
def test_seg_hand_built_test_batch(num, kind):
    """mmseg test batches have one size; test_cfg pads them (not with data_samples=None, where
    mmseg itself fails, so that case runs unpadded)."""
    sizes = [SIZES[0]] * num
    test_cfg = None if kind == 'none' else dict(size_divisor=32)
    vanilla, low_light = build_pair('seg', shared=dict(SEG_PAD_VALUES, test_cfg=test_cfg))
    brightening_factor_(low_light)
    result, expected = run_both(vanilla, low_light,
                                lambda: seg_batch(kind, sizes, with_labels=False), False)
    assert result['inputs'].shape[-2:] == ((40, 50) if kind == 'none' else (64, 64))
    assert_padding_kept_and_images_enhanced(result['inputs'], expected['inputs'], sizes,
                                            low_light, images(sizes))


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_disagreeing_metainfo_warns_once_and_the_tensors_win(task):
    sizes = [(40, 50), (40, 50)] if task == 'seg' else SIZES[:2]
    sample_type = SegDataSample if task == 'seg' else DetDataSample

    def make(img_shape):
        return dict(inputs=images(sizes),
                    data_samples=[sample_type(metainfo=dict(img_shape=img_shape))
                                  for _ in sizes])

    vanilla, low_light = build_pair(task, shared=SEG_PAD_VALUES if task == 'seg' else DET_PAD)
    brightening_factor_(low_light)
    expected = vanilla(make((20, 20)), training=False)['inputs']
    with pytest.warns(UserWarning, match=r'img_shape .*\(20, 20\).*tensor sizes locate'):
        result = low_light(make((20, 20)), training=False)['inputs']
    assert_padding_kept_and_images_enhanced(result, expected, sizes, low_light, images(sizes))
    with warnings.catch_warnings():
        warnings.filterwarnings('error', message='.*img_shape')
        again = low_light(make((99, 99)), training=False)['inputs']  # said once only
    assert torch.equal(again, result)


def det_samples_with_boxes(sizes):
    data = det_batch('meta', sizes)
    for sample in data['data_samples']:
        sample.set_metainfo(dict(scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[2., 3., 20., 25.]]),
                                           labels=torch.tensor([0]))
        sample.ignored_instances = InstanceData(bboxes=torch.zeros(0, 4))
    return data


def augment_pair(augment):
    vanilla, low_light = build_pair('det', shared=DET_PAD, batch_augments=[augment])
    vanilla.batch_augments = copy.deepcopy(low_light.batch_augments)
    brightening_factor_(low_light)
    return vanilla, low_light


@pytest.mark.parametrize('kind', ['none', 'bare', 'meta'])
def test_det_fixed_size_pad_augment_without_metainfo(kind):
    vanilla, low_light = augment_pair(dict(type='mmdet.BatchFixedSizePad', size=(80, 96),
                                           img_pad_value=0))
    result, expected = run_both(vanilla, low_light, lambda: det_batch(kind, SIZES), True)
    assert result['inputs'].shape[-2:] == (80, 96)
    assert_padding_kept_and_images_enhanced(result['inputs'], expected['inputs'], SIZES,
                                            low_light, images(SIZES))


@pytest.mark.parametrize('augment', [
    dict(type='mmdet.BatchSyncRandomResize', random_size_range=(96, 96), interval=1000),
    dict(type='mmdet.BatchResize', scale=(80, 120), pad_size_divisor=32, pad_value=0),
])
def test_det_resizing_augments_move_the_extents_as_mmdet_moves_img_shape(augment):
    """The images are enhanced where mmdet's resize put them: the enhancer applied to the
    stock preprocessor's resized image alone; the padding stays as the stock one wrote it."""
    MessageHub.get_instance('test_resizing_augments').update_info('iter', 0)
    vanilla, low_light = augment_pair(augment)
    if augment['type'].endswith('BatchSyncRandomResize'):
        for preprocessor in (vanilla, low_light):
            preprocessor.batch_augments[0]._input_size = (96, 96)
    expected = vanilla(det_samples_with_boxes(SIZES), training=True)
    result = low_light(det_samples_with_boxes(SIZES), training=True)
    ours, theirs = result['inputs'], expected['inputs']
    assert ours.shape == theirs.shape and ours.shape[-2:] != (64, 64)
    for i, sample in enumerate(expected['data_samples']):
        h, w = sample.img_shape  # where mmdet says the resized image lies
        assert result['data_samples'][i].img_shape == (h, w)
        pad = torch.ones_like(ours[i], dtype=torch.bool)
        pad[:, :h, :w] = False
        assert torch.equal(ours[i][pad], theirs[i][pad]), f'padding of image {i} changed'
        # The change the enhancer makes is added to the stock values (where resizing blended
        # image and pad into values beyond [0, 1], the enhancer sees them clamped).
        crop = theirs[i:i + 1, :, :h, :w]
        rgb = low_light._denormalize_to_rgb(crop)
        with torch.no_grad():
            change = (low_light.enhancer(rgb)[0] - rgb) * 255 / torch.tensor(STD).view(3, 1, 1)
        torch.testing.assert_close(ours[i:i + 1, :, :h, :w], crop + change, atol=1e-4, rtol=0)
        assert not torch.allclose(ours[i, :, :h, :w], theirs[i, :, :h, :w], atol=1e-2)


def test_unknown_resizing_augment_without_metainfo_is_an_error():
    from mmlowlight.models.data_preprocessors.batch_augment_extents import follow_batch_augment
    augment = torch.nn.Identity()
    assert follow_batch_augment(augment, [(3, 4)], (8, 8), (8, 8)) == [(3, 4)]
    with pytest.raises(ValueError, match=r'Identity changed the batch from \(8, 8\) to '
                       r'\(16, 16\).*img_shape'):
        follow_batch_augment(augment, [(3, 4)], (8, 8), (16, 16), [DetDataSample()])
    recorded = [DetDataSample(metainfo=dict(img_shape=(6, 8)))]
    assert follow_batch_augment(augment, [(3, 4)], (8, 8), (16, 16), recorded) == [(6, 8)]


def test_extent_helpers_reject_what_they_cannot_read():
    from mmlowlight.models.data_preprocessors.image_extents import clip_extents, input_extents
    assert input_extents(torch.zeros(2, 3, 5, 7)) == [(5, 7), (5, 7)]
    assert input_extents([torch.zeros(3, 5, 7), torch.zeros(3, 4, 9)]) == [(5, 7), (4, 9)]
    assert clip_extents([(5, 70), (0, 3)], 8, 8) == [(5, 8), (1, 3)]
    with pytest.raises(TypeError, match=r'\(N, C, H, W\).*\(3, 5, 7\)'):
        input_extents(torch.zeros(3, 5, 7))
    with pytest.raises(TypeError, match='list of .* got str'):
        input_extents('image.png')
    _, low_light = build_pair('det')
    with pytest.raises(ValueError, match='1 image extents for a batch of 2'):
        low_light.enhance_normalized(torch.zeros(2, 3, 8, 8), [(4, 4)])
