"""The low-light preprocessors without ``enhancer=``: the checkpoint's enhancer, as
``init_enhancer`` builds it (never hard-coded), and both spellings of both names (issue 14.6)."""
import pytest
import torch

from mmlowlight.apis import init_enhancer
from mmlowlight.models.data_preprocessors import low_light_mixin
from mmlowlight.models.enhancers import DEFAULT_CHECKPOINT, SGZEnhancer
from mmlowlight.registry import MODELS

pytest.importorskip('mmdet.models.data_preprocessors')
pytest.importorskip('mmseg.models')

NAMES = {
    'det': ['LowLightDetDataPreprocessor', 'LowLightDetDataPreProcessor'],
    'seg': ['LowLightSegDataPreProcessor', 'LowLightSegDataPreprocessor'],
}


def same_enhancer(ours, theirs):
    assert type(ours) is type(theirs) is SGZEnhancer
    for name in ('conv_type', 'num_iterations', 'scale_factor'):
        assert getattr(ours, name) == getattr(theirs, name), name
    state, expected = ours.state_dict(), theirs.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[k], expected[k]) for k in state)


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_default_is_the_package_enhancer(task):
    preprocessor = MODELS.build(dict(type=f'mmlowlight.{NAMES[task][0]}'))
    assert preprocessor.enhancer_checkpoint == DEFAULT_CHECKPOINT
    same_enhancer(preprocessor.enhancer, init_enhancer())


@pytest.fixture
def retrained_default(tmp_path, monkeypatch):
    """Default weights of another architecture whose meta records other arguments, as a
    retrained default might."""
    enhancer = SGZEnhancer(channels=16, num_iterations=4, scale_factor=6, shared_factor=False)
    enhancer.init_weights()
    path = str(tmp_path / 'sgz_default.pth')
    torch.save(dict(state_dict=enhancer.state_dict(),
                    meta=dict(enhancer=dict(num_iterations=4, scale_factor=6))), path)
    monkeypatch.setattr(low_light_mixin, 'DEFAULT_CHECKPOINT', path)
    return path, enhancer


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_default_follows_the_checkpoint_meta(task, retrained_default):
    path, expected = retrained_default
    preprocessor = MODELS.build(dict(type=f'mmlowlight.{NAMES[task][1]}'))
    assert preprocessor.enhancer_checkpoint == path
    same_enhancer(preprocessor.enhancer, expected)
    same_enhancer(preprocessor.enhancer, init_enhancer(checkpoint=path))
    assert preprocessor.enhancer.efe.blocks[0].pointwise.weight.shape[0] == 16

    # No weights: the default's architecture, randomly initialised.
    untrained = MODELS.build(dict(type=f'mmlowlight.{NAMES[task][0]}',
                                  enhancer_checkpoint=False))
    assert untrained.enhancer_checkpoint is None
    assert untrained.enhancer.scale_factor == 6 and untrained.enhancer.num_iterations == 4
    untrained.init_weights()
    weight = untrained.enhancer.efe.blocks[0].pointwise.weight
    assert weight.shape == expected.efe.blocks[0].pointwise.weight.shape
    assert not torch.equal(weight, expected.efe.blocks[0].pointwise.weight)


def test_default_with_other_weights_uses_their_architecture(retrained_default):
    path, expected = retrained_default
    missing = str(path) + '.missing'
    preprocessor = MODELS.build(dict(type='mmlowlight.LowLightDetDataPreprocessor',
                                     enhancer_checkpoint=path))
    same_enhancer(preprocessor.enhancer, expected)
    with pytest.raises(FileNotFoundError, match='missing'):
        MODELS.build(dict(type='mmlowlight.LowLightDetDataPreprocessor',
                          enhancer_checkpoint=missing))


def test_missing_default_weights_say_what_to_pass(monkeypatch, tmp_path):
    monkeypatch.setattr(low_light_mixin, 'DEFAULT_CHECKPOINT', str(tmp_path / 'absent.pth'))
    with pytest.raises(FileNotFoundError, match=r'absent\.pth.*enhancer_checkpoint=<path>'):
        MODELS.build(dict(type='mmlowlight.LowLightSegDataPreProcessor'))
    with pytest.raises(FileNotFoundError, match=r'enhancer=None with enhancer_checkpoint=False'):
        MODELS.build(dict(type='mmlowlight.LowLightSegDataPreProcessor',
                          enhancer_checkpoint=False))
    built = MODELS.build(dict(type='mmlowlight.LowLightSegDataPreProcessor',
                              enhancer=dict(type='SGZEnhancer'), enhancer_checkpoint=False))
    assert isinstance(built.enhancer, SGZEnhancer)


def test_official_weights_default_to_the_official_scale(official_weights):
    preprocessor = MODELS.build(dict(type='mmlowlight.LowLightDetDataPreprocessor',
                                     enhancer_checkpoint=official_weights))
    assert preprocessor.enhancer.scale_factor == 12
    same_enhancer(preprocessor.enhancer, init_enhancer(checkpoint=official_weights))


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_both_spellings_build_the_same_class(task):
    from mmlowlight.models.data_preprocessors import (low_light_det_data_preprocessor,
                                                      low_light_seg_data_preprocessor)
    module = dict(det=low_light_det_data_preprocessor, seg=low_light_seg_data_preprocessor)[task]
    classes = {type(MODELS.build(dict(type=f'mmlowlight.{name}', enhancer_checkpoint=False,
                                      enhancer=dict(type='SGZEnhancer'))))
               for name in NAMES[task]}
    assert classes == {getattr(module, NAMES[task][0])}
    assert getattr(module, NAMES[task][1]) is getattr(module, NAMES[task][0])
    # Also from a detector's / segmentor's own scope, as configs write it.
    scope = 'mmdet' if task == 'det' else 'mmseg'
    for name in NAMES[task]:
        built = MODELS.build(dict(type=f'mmlowlight.{name}', _scope_=scope))
        assert isinstance(built, getattr(module, NAMES[task][0]))


def test_enhancer_must_be_a_config_or_none():
    with pytest.raises(TypeError, match='enhancer must be None .* or a config dict'):
        MODELS.build(dict(type='mmlowlight.LowLightDetDataPreprocessor', enhancer='SGZ'))


def _data_samples(task, inputs):
    from mmengine.structures import PixelData
    if task == 'det':
        from mmdet.structures import DetDataSample
        return [DetDataSample(metainfo=dict(img_shape=tuple(x.shape[1:]))) for x in inputs]
    from mmseg.structures import SegDataSample
    samples = []
    for x in inputs:
        sample = SegDataSample(metainfo=dict(img_shape=tuple(x.shape[1:])))
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, *x.shape[1:], dtype=torch.long))
        samples.append(sample)
    return samples


@pytest.mark.parametrize('task', ['det', 'seg'])
def test_joint_training_runs_through_the_whole_pipeline(task):
    """freeze=False: the recorded exposure control and denoiser stay in the graph and the task
    loss's gradient reaches the EFE through them."""
    sizing = dict(pad_size_divisor=32) if task == 'det' else dict(size=(64, 64))
    preprocessor = MODELS.build(dict(
        type=f'mmlowlight.{NAMES[task][0]}', freeze=False,
        aux_losses=[dict(type='ExposureRangeLoss')], mean=[0, 0, 0], std=[255, 255, 255],
        **sizing))
    enhancer = preprocessor.enhancer
    assert enhancer.exposure_control is not None and enhancer.denoiser is not None
    assert 'trained with the task loss' in preprocessor.pipeline_description
    preprocessor.train()
    generator = torch.Generator().manual_seed(0)
    inputs = [(torch.rand(3, 48, 64, generator=generator) * 40).to(torch.uint8)
              for _ in range(2)]
    out = preprocessor(dict(inputs=inputs, data_samples=_data_samples(task, inputs)),
                       training=True)['inputs']
    task_loss = out.square().mean()  # stands in for a detector's loss
    aux = preprocessor.pop_aux_losses()
    (task_loss + sum(aux.values())).backward()
    grads = [p.grad for p in enhancer.efe.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert set(aux) == {'loss_exposure'}


def test_pipeline_description_names_the_source(official_weights):
    preprocessor = MODELS.build(dict(type='mmlowlight.LowLightSegDataPreProcessor',
                                     enhancer_checkpoint=official_weights))
    line = preprocessor.pipeline_description
    assert line.startswith('LowLightSegDataPreProcessor: SGZEnhancer(dsc, scale_factor=12) + '
                           'no exposure control + no denoiser')
    assert official_weights in line and line.endswith('frozen')
