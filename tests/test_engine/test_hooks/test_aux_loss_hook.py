"""AuxLossHook: a low-light preprocessor's aux losses reach parse_losses in a real train step."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.hub import get_config
from mmengine.optim import OptimWrapper

from mmlowlight.engine.hooks import AuxLossHook
from mmlowlight.registry import MODELS
from tests.test_models.test_data_preprocessors import toy_losses  # noqa: F401

pytest.importorskip('mmdet.models')
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402


def build_retinanet(**preprocessor):
    """A small RetinaNet (ResNet-18, random init) with a low-light preprocessor."""
    model = get_config('mmdet::_base_/models/retinanet_r50_fpn.py').model
    model.backbone.update(depth=18, init_cfg=None)
    model.neck.in_channels = [64, 128, 256, 512]
    model.bbox_head.num_classes = 2
    model.data_preprocessor.update(
        type='mmlowlight.LowLightDetDataPreprocessor', enhancer_checkpoint=False,
        enhancer=dict(type='SGZEnhancer', scale_factor=4), **preprocessor)
    model._scope_ = "mmdet"
    detector = MODELS.build(model)
    return detector.train()


def det_batch():
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for h, w in [(64, 64), (48, 56)]:
        inputs.append(torch.randint(0, 60, (3, h, w), generator=gen, dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                             scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[4., 6., 30., 40.]]),
                                           labels=torch.tensor([1]))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def enhancer_state(model):
    return copy.deepcopy(model.data_preprocessor.enhancer.state_dict())


def test_joint_step_trains_enhancer_and_logs_aux_losses():
    model = build_retinanet(freeze=False, aux_losses=[dict(type='ToyBrightnessLossForTests')])
    runner = SimpleNamespace(model=model)
    hook = AuxLossHook()
    hook.before_train(runner)
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = enhancer_state(model)
    log_vars = model.train_step(det_batch(), optim_wrapper)
    assert {'loss', 'loss_cls', 'loss_bbox', 'loss_toy_brightness'} <= set(log_vars)
    total = log_vars['loss_cls'] + log_vars['loss_bbox'] + log_vars['loss_toy_brightness']
    assert log_vars['loss'].item() == pytest.approx(total.item(), rel=1e-5)
    after = enhancer_state(model)
    assert any(not torch.equal(before[k], after[k]) for k in before), 'enhancer did not train'
    assert model.data_preprocessor.enhancer.training

    assert not model.data_preprocessor.merge_aux_losses_automatically  # the hook merges
    hook.after_train(runner)
    assert model.data_preprocessor.merge_aux_losses_automatically


def test_without_the_hook_train_step_still_gets_the_aux_losses():
    model = build_retinanet(freeze=False, aux_losses=[dict(type='ToyBrightnessLossForTests')])
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    for _ in range(2):  # and the next step does not complain
        log_vars = model.train_step(det_batch(), optim_wrapper)
        assert {'loss_cls', 'loss_bbox', 'loss_toy_brightness'} <= set(log_vars)
    with torch.no_grad():
        model.eval()
        assert len(model.val_step(det_batch())) == 2


def test_a_loss_that_bypasses_forward_hooks_raises_at_backward():
    model = build_retinanet(freeze=False, aux_losses=[dict(type='ToyBrightnessLossForTests')])
    data = model.data_preprocessor(det_batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])  # skips __call__ and the merge
    total, _ = model.parse_losses(losses)
    with pytest.raises(RuntimeError, match='loss_toy_brightness.*never reached the loss'):
        total.backward()


def test_frozen_enhancer_gets_no_gradient():
    model = build_retinanet(freeze=True)
    AuxLossHook().before_train(SimpleNamespace(model=model))  # harmless without aux losses
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = enhancer_state(model)
    log_vars = model.train_step(det_batch(), optim_wrapper)
    assert set(log_vars) == {'loss', 'loss_cls', 'loss_bbox'}
    enhancer = model.data_preprocessor.enhancer
    assert not enhancer.training
    assert all(p.grad is None for p in enhancer.parameters())
    after = enhancer_state(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_predict_path_runs_the_enhancer():
    model = build_retinanet(freeze=True).eval()
    with torch.no_grad():
        results = model.val_step(det_batch())
    assert len(results) == 2 and 'pred_instances' in results[0]


def test_needs_a_low_light_preprocessor():
    model = MODELS.build(dict(_scope_='mmdet', type='mmdet.DetDataPreprocessor'))
    with pytest.raises(TypeError, match='LowLightDetDataPreprocessor'):
        AuxLossHook().before_train(SimpleNamespace(model=SimpleNamespace(
            data_preprocessor=model)))
