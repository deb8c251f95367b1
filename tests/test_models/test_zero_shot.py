"""ZeroShotEnhancer: modes, training with a frozen guide, checkpoints without the guide."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.runner import load_checkpoint, save_checkpoint
from mmengine.structures import BaseDataElement

from mmlowlight.models import ZeroShotEnhancer
from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.registry import MODELS

ZERO_REFERENCE_LOSSES = [
    dict(type='SpatialConsistencyLoss'),
    dict(type='ColorConstancyLoss'),
    dict(type='ExposureLoss'),
    dict(type='IlluminationSmoothnessLoss'),
]
LOSS_NAMES = {'loss_spatial', 'loss_color', 'loss_exposure', 'loss_smooth', 'loss_semantic'}


def _model(guide_depth=18, semantic_only=False):
    semantic = dict(type='SemanticGuidanceLoss',
                    guide=dict(type='FPNSegmentationGuide', depth=guide_depth))
    losses = [semantic] if semantic_only else ZERO_REFERENCE_LOSSES + [semantic]
    torch.manual_seed(0)
    return MODELS.build(dict(type='mmlowlight.ZeroShotEnhancer',
                             enhancer=dict(type='SGZEnhancer'), losses=losses))


def _batch(num=2, size=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=[torch.randint(0, 90, (3, size, size), dtype=torch.uint8, generator=gen)
                        for _ in range(num)])


def _guide_state(model):
    return {k: v.clone() for k, v in model.losses[-1].guide.state_dict().items()}


def test_training_updates_only_the_enhancer(tmp_path):
    model = _model()
    model.init_weights()
    model.train()
    guide = model.losses[-1].guide
    assert not guide.training
    guide_before = _guide_state(model)
    enhancer_before = {k: v.clone() for k, v in model.enhancer.state_dict().items()}
    optim_wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    for step in range(5):
        log_vars = model.train_step(_batch(seed=step), optim_wrapper)
    assert LOSS_NAMES | {'loss'} == set(log_vars)
    assert all(p.grad is None for p in guide.parameters())
    guide_after = guide.state_dict()
    for key, value in guide_before.items():  # weights and BatchNorm running statistics
        assert torch.equal(guide_after[key], value), key
    assert any(not torch.equal(model.enhancer.state_dict()[k], v)
               for k, v in enhancer_before.items())

    # Checkpoints hold the enhancer only and load into a fresh model.
    state = model.state_dict()
    assert state and all(k.startswith('enhancer.') for k in state)
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint(dict(state_dict=state, meta=dict(epoch=1)), str(path))
    saved = torch.load(path, map_location='cpu', weights_only=True)['state_dict']
    assert not any('guide' in k for k in saved)
    fresh = _model()
    load_checkpoint(fresh, str(path), map_location='cpu', strict=True)
    for key, value in state.items():
        assert torch.equal(fresh.state_dict()[key], value), key
    assert fresh.load_state_dict(state, strict=True) is not None


def test_default_resnet50_guide_sends_gradients_to_the_enhancer():
    model = _model(guide_depth=50, semantic_only=True)
    model.train()
    inputs = model.data_preprocessor(_batch(num=1, size=64))['inputs']
    losses = model(inputs, mode='loss')
    assert set(losses) == {'loss_semantic'}
    losses['loss_semantic'].backward()
    grads = [p.grad for p in model.enhancer.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(p.grad is None for p in model.losses[0].guide.parameters())


def test_init_weights_reaches_the_guide_pretrained_init(tmp_path):
    torch.manual_seed(0)
    weights = {'conv1.weight': torch.randn(64, 3, 7, 7), 'fc.weight': torch.randn(10, 512)}
    path = tmp_path / 'backbone.pth'
    torch.save(weights, path)
    guide = dict(type='FPNSegmentationGuide', depth=18,
                 init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model = MODELS.build(dict(
        type='mmlowlight.ZeroShotEnhancer', enhancer=dict(type='SGZEnhancer'),
        losses=[dict(type='SemanticGuidanceLoss', guide=guide)]))
    model.init_weights()
    assert torch.equal(model.losses[0].guide.conv1.weight, weights['conv1.weight'])


def test_without_semantic_loss_there_is_no_guide():
    model = MODELS.build(dict(type='mmlowlight.ZeroShotEnhancer',
                              enhancer=dict(type='SGZEnhancer'), losses=ZERO_REFERENCE_LOSSES))
    assert not any('guide' in name for name, _ in model.named_modules())
    log_vars = model.train_step(_batch(), OptimWrapper(torch.optim.Adam(model.parameters())))
    assert set(log_vars) == LOSS_NAMES - {'loss_semantic'} | {'loss'}


def test_tensor_and_predict_modes():
    model = MODELS.build(dict(type='mmlowlight.ZeroShotEnhancer',
                              enhancer=dict(type='SGZEnhancer'), losses=[])).eval()
    batch = _batch(num=2, size=16)
    samples = [BaseDataElement(metainfo=dict(img_path=f'{i}.png', ori_shape=(16, 16)),
                               gt_img=torch.zeros(3, 16, 16, dtype=torch.uint8))
               for i in range(2)]
    data = model.data_preprocessor(dict(batch, data_samples=samples))
    with torch.no_grad():
        enhanced, factor = model(data['inputs'], mode='tensor')
        expected, expected_factor = model.enhancer(data['inputs'])
        assert torch.allclose(enhanced, expected, atol=1e-6)  # NHWC vs NCHW: rounding only
        assert torch.allclose(factor, expected_factor, atol=1e-6)
        results = model.val_step(dict(batch, data_samples=samples))
    assert len(results) == 2
    for i, result in enumerate(results):
        assert result.img_path == f'{i}.png'
        assert result.pred_img.shape == (3, 16, 16)
        assert 0 <= result.pred_img.min() and result.pred_img.max() <= 1
        assert torch.allclose(result.pred_img, enhanced[i].clamp(0, 1))
        assert result.factor_map.shape == (3, 16, 16)
        assert torch.equal(result.input_img, data['inputs'][i])
        assert result.gt_img.dtype == torch.float32
    # Without data samples, fresh ones are made.
    with torch.no_grad():
        results = model.test_step(batch)
    assert len(results) == 2 and results[0].pred_img.shape == (3, 16, 16)


def test_bad_configuration():
    with pytest.raises(ValueError, match='unique'):
        ZeroShotEnhancer(enhancer=dict(type='SGZEnhancer'),
                         losses=[dict(type='ExposureLoss'), dict(type='ExposureLoss')])
    model = ZeroShotEnhancer(enhancer=dict(type='SGZEnhancer'), losses=[])
    with pytest.raises(ValueError, match='mode'):
        model(torch.rand(1, 3, 8, 8), mode='losses')
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        model(torch.rand(1, 8, 8))


@pytest.mark.parametrize('form', ['ours', 'official'])
def test_loads_enhancer_only_weights(tmp_path, form):
    """load_from / tools/test.py with the default weights or an official SGZ file."""
    torch.manual_seed(3)
    source = SGZEnhancer()
    state = source.state_dict()
    if form == 'official':
        state = {f'e_conv{int(k.split(".")[2]) + 1}.'
                 f'{dict(depthwise="depth_conv", pointwise="point_conv")[k.split(".")[3]]}.'
                 f'{k.split(".")[4]}': v for k, v in state.items()}
    path = str(tmp_path / 'weights.pth')
    torch.save(dict(state_dict=state, meta=dict(enhancer=dict(scale_factor=4))), path)
    model = ZeroShotEnhancer(enhancer=dict(type='SGZEnhancer'), losses=[])
    load_checkpoint(model, path, strict=True)
    for key, value in source.state_dict().items():
        assert torch.equal(model.enhancer.state_dict()[key], value)
