"""LowLightDetDataPreprocessor / LowLightSegDataPreProcessor against mmdet's / mmseg's own."""
import pytest
import torch

from mmlowlight.registry import MODELS
from . import toy_losses  # noqa: F401  (registers ToyBrightnessLossForTests)

mmdet_preprocessors = pytest.importorskip('mmdet.models.data_preprocessors')
mmseg_models = pytest.importorskip('mmseg.models')
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
SIZES = [(40, 50), (30, 64), (40, 50)]  # different sizes, two alike (one batched group)


def det_data(seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8) for h, w in SIZES]
    samples = [DetDataSample(metainfo=dict(img_shape=(h, w))) for h, w in SIZES]
    return dict(inputs=inputs, data_samples=samples)


def seg_data(seed=0):
    gen = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8) for h, w in SIZES]
    samples = []
    for h, w in SIZES:
        sample = SegDataSample(metainfo=dict(img_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, h, w), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


TASKS = {
    'det': dict(vanilla='mmdet.DetDataPreprocessor', ours='mmlowlight.LowLightDetDataPreprocessor',
                args=dict(pad_size_divisor=32, pad_value=7), data=det_data),
    'seg': dict(vanilla='mmseg.SegDataPreProcessor', ours='mmlowlight.LowLightSegDataPreProcessor',
                args=dict(size_divisor=32, pad_val=7), data=seg_data),
}


def build_pair(task, bgr_to_rgb=True, shared=None, **ours):
    """The stock preprocessor and ours with the same arguments (plus ``shared`` for both)."""
    spec = TASKS[task]
    common = dict(mean=MEAN, std=STD, bgr_to_rgb=bgr_to_rgb, **{**spec['args'], **(shared or {})})
    vanilla = MODELS.build(dict(type=spec['vanilla'], **common))
    ours.setdefault('enhancer', dict(type='SGZEnhancer', scale_factor=12))
    ours.setdefault('enhancer_checkpoint', False)
    low_light = MODELS.build(dict(type=spec['ours'], **common, **ours))
    low_light.init_weights()
    return vanilla, low_light


def zero_factor_(preprocessor):
    for param in preprocessor.enhancer.efe.blocks[-1].parameters():
        param.data.zero_()


def brightening_factor_(preprocessor):
    """r around tanh(-1): a clearly visible enhancement (random init alone is near identity)."""
    preprocessor.enhancer.efe.blocks[-1].pointwise.bias.data.fill_(-1.0)


@pytest.mark.parametrize('task', ['det', 'seg'])
@pytest.mark.parametrize('bgr_to_rgb', [True, False])
def test_zero_factor_reproduces_vanilla_bit_for_bit(task, bgr_to_rgb):
    vanilla, low_light = build_pair(task, bgr_to_rgb)
    zero_factor_(low_light)
    make = TASKS[task]['data']
    expected = vanilla(make(), training=True)
    result = low_light(make(), training=True)
    assert result['inputs'].shape == expected['inputs'].shape == (3, 3, 64, 64)
    assert torch.equal(result['inputs'], expected['inputs'])
    for ours, theirs in zip(result['data_samples'], expected['data_samples']):
        assert ours.metainfo == theirs.metainfo


@pytest.mark.parametrize('task', ['det', 'seg'])
@pytest.mark.parametrize('bgr_to_rgb', [True, False])
def test_enhances_each_image_alone_and_keeps_padding(task, bgr_to_rgb):
    vanilla, low_light = build_pair(task, bgr_to_rgb)
    brightening_factor_(low_light)
    make = TASKS[task]['data']
    expected = vanilla(make(), training=True)['inputs']
    result = low_light(make(), training=True)['inputs']
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    for i, (h, w) in enumerate(SIZES):
        pad = torch.ones_like(result[i], dtype=torch.bool)
        pad[:, :h, :w] = False
        assert torch.equal(result[i][pad], expected[i][pad]), 'padding changed'
        raw = make()['inputs'][i].float() / 255  # BGR as loaded
        rgb = raw.flip(0)
        with torch.no_grad():
            enhanced = low_light.enhancer(rgb[None])[0][0]
        model_order = enhanced if bgr_to_rgb else enhanced.flip(0)
        want = (model_order * 255 - mean) / std
        torch.testing.assert_close(result[i, :, :h, :w], want, atol=1e-4, rtol=0)
        assert not torch.allclose(result[i, :, :h, :w], expected[i, :, :h, :w], atol=1e-2)


def same_size_seg_data():
    """mmseg test batches must hold equal sizes."""
    return dict(inputs=[torch.full((3, 24, 40), 30, dtype=torch.uint8)] * 2,
                data_samples=[SegDataSample(metainfo=dict(img_shape=(24, 40))) for _ in range(2)])


def test_seg_test_mode_same_size_batch():
    vanilla, low_light = build_pair('seg')
    zero_factor_(low_light)
    data = same_size_seg_data()
    assert torch.equal(low_light(data)['inputs'], vanilla(data)['inputs'])


def test_aux_losses_on_valid_pixels_and_stash_guard():
    _, low_light = build_pair(
        'seg', freeze=False, aux_losses=[dict(type='ToyBrightnessLossForTests')])
    low_light.train()
    low_light(seg_data(), training=True)
    losses = low_light.pop_aux_losses()
    assert list(losses) == ['loss_toy_brightness']
    per_image = []
    for img in seg_data()['inputs']:
        enhanced = low_light.enhancer(img.flip(0)[None].float() / 255)[0]
        per_image.append((enhanced.mean() - 0.6)**2)
    torch.testing.assert_close(losses['loss_toy_brightness'], torch.stack(per_image).mean())
    assert losses['loss_toy_brightness'].requires_grad
    assert low_light.pop_aux_losses() == {}, 'losses are handed over once'

    low_light(same_size_seg_data(), training=False)
    assert low_light.pop_aux_losses() == {}, 'no aux losses outside training steps'

    # Losses that no loss dict took (no training step used them) are dropped by the next
    # call, predict or training alike, without an error.
    low_light(seg_data(), training=True)
    low_light(same_size_seg_data(), training=False)
    assert low_light.pop_aux_losses() == {}
    low_light(seg_data(), training=True)
    low_light(seg_data(), training=True)
    assert list(low_light.pop_aux_losses()) == ['loss_toy_brightness']

    # A backward through the enhanced batch while they still wait loses them: that raises.
    enhanced = low_light(seg_data(), training=True)['inputs']
    with pytest.raises(RuntimeError, match=r"loss_toy_brightness.*never reached the loss.*"
                       r"mode='loss'.*pop_aux_losses"):
        enhanced.mean().backward()
    enhanced = low_light(seg_data(), training=True)['inputs']
    (enhanced.mean() + sum(low_light.pop_aux_losses().values())).backward()
    assert low_light.enhancer.efe.blocks[0].depthwise.weight.grad is not None


def test_frozen_enhancer_stays_in_eval_without_grad():
    _, low_light = build_pair('det', freeze=True)
    low_light.train()
    assert low_light.training and not low_light.enhancer.training
    assert not any(p.requires_grad for p in low_light.enhancer.parameters())
    with torch.enable_grad():
        out = low_light(det_data(), training=True)['inputs']
    assert not out.requires_grad


def test_invalid_arguments():
    with pytest.raises(ValueError, match='freeze=False'):
        build_pair('det', freeze=True, aux_losses=[dict(type='ToyBrightnessLossForTests')])
    with pytest.raises(ValueError, match='distinct'):
        build_pair('det', freeze=False, aux_losses=[dict(type='ToyBrightnessLossForTests')] * 2)
    with pytest.raises(TypeError, match='enhancer_checkpoint'):
        build_pair('det', enhancer_checkpoint=3)
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        build_pair('det', enhancer_checkpoint='/nowhere.pth')


def test_loads_official_weights_eagerly(official_weights):
    _, low_light = build_pair('det', enhancer_checkpoint=official_weights)
    weight = low_light.enhancer.efe.blocks[0].depthwise.weight.clone()
    low_light.init_weights()  # as BaseModule.init_weights of the detector would call it
    assert torch.equal(low_light.enhancer.efe.blocks[0].depthwise.weight, weight)
    raw = torch.load(official_weights, map_location='cpu', weights_only=True)
    raw = {k.replace('module.', ''): v for k, v in raw.items()}
    assert torch.equal(weight, raw['e_conv1.depth_conv.weight'])


def test_det_batch_augments_keep_working():
    augments = [dict(type='mmdet.BatchFixedSizePad', size=(80, 96), img_pad_value=3)]
    vanilla, low_light = build_pair('det', batch_augments=augments)
    vanilla.batch_augments = low_light.batch_augments  # the same (stateless) augment objects
    zero_factor_(low_light)
    expected = vanilla(det_data(), training=True)
    result = low_light(det_data(), training=True)
    assert result['inputs'].shape == (3, 3, 80, 96)
    assert torch.equal(result['inputs'], expected['inputs'])
    brightening_factor_(low_light)
    brighter = low_light(det_data(), training=True)['inputs']
    assert torch.equal(brighter[:, :, 64:], expected['inputs'][:, :, 64:]), 'padding changed'
    assert not torch.equal(brighter[0, :, :40, :50], expected['inputs'][0, :, :40, :50])


def test_output_stays_float32_under_autocast():
    _, low_light = build_pair('det')
    brightening_factor_(low_light)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = low_light(det_data(), training=False)['inputs']
    reference = low_light(det_data(), training=False)['inputs']
    assert out.dtype == torch.float32
    # The EFE runs in bfloat16 (factor map to ~1e-2), the curve in float32.
    torch.testing.assert_close(out, reference, atol=0.1, rtol=0)


def test_waiting_aux_losses_keep_nothing_alive_and_copies_start_empty():
    import copy
    import gc

    from torch.nn.modules import module as torch_module
    hooks_before = len(torch_module._global_forward_hooks)
    _, low_light = build_pair(
        'seg', freeze=False, aux_losses=[dict(type='ToyBrightnessLossForTests')])
    low_light(seg_data(), training=True)
    assert len(torch_module._global_forward_hooks) == hooks_before + 1  # waits for a loss
    copied = copy.deepcopy(low_light)  # as EMA hooks copy a model
    assert copied.pop_aux_losses() == {} and low_light._aux_stash.waiting
    assert copied._aux_stash._owner() is copied
    del low_light
    gc.collect()
    torch.nn.Identity()(torch.zeros(1))  # the next module call finds the owner gone
    assert len(torch_module._global_forward_hooks) == hooks_before
