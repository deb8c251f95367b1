"""NonFiniteGuardHook: a non-finite loss or gradient stops training before the weights change."""
import copy
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmlowlight.engine.hooks import NonFiniteGuardHook, NonFiniteTrainingError
from mmlowlight.registry import MODELS
from tests.test_engine.test_hooks import nan_losses  # noqa: F401  (registers the loss)


def _model(kind: str, at_call: int = 2):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='mmlowlight.ZeroShotEnhancer',
        enhancer=dict(type='SGZEnhancer', scale_factor=1),
        losses=[dict(type='ColorConstancyLoss'), dict(type='ExposureLoss', patch_size=4),
                dict(type='NonFiniteAtCallLossForTests', at_call=at_call, kind=kind)]))


def _batch(seed: int):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=[torch.randint(0, 90, (3, 16, 16), dtype=torch.uint8, generator=gen)
                        for _ in range(2)])


def _train(model, steps: int, hook=None):
    optim_wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2),
                                 clip_grad=dict(max_norm=0.1))
    runner = SimpleNamespace(model=model, optim_wrapper=optim_wrapper, iter=0, epoch=0,
                             train_loop=None)
    if hook is not None:
        hook.before_train(runner)
    for step in range(steps):
        runner.iter = step
        batch = _batch(step)
        if hook is not None:
            hook.before_train_iter(runner, step, batch)
        model.train_step(batch, optim_wrapper)
        if hook is not None:
            hook.after_train_iter(runner, step, batch)
    return runner


def _finite(model) -> bool:
    return all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize('kind', ['value', 'gradient'])
def test_without_guard_weights_turn_nan_silently(kind):
    """What the guard prevents: training goes on and the weights are NaN."""
    model = _model(kind)
    _train(model, steps=3)
    assert not _finite(model)


def test_non_finite_loss_stops_before_backward():
    model = _model('value', at_call=2)
    hook = NonFiniteGuardHook()
    with pytest.raises(NonFiniteTrainingError,
                       match=r'training iteration 2: non-finite loss term loss_injected '
                       r'\(loss_color=.*loss_injected=nan\)'):
        _train(model, steps=4, hook=hook)
    assert _finite(model)


def test_non_finite_gradient_stops_before_step_and_names_term():
    model = _model('gradient', at_call=3)
    hook = NonFiniteGuardHook()
    weights = {}

    def remember(optimizer, args, kwargs):  # registered after the guard's: runs after it
        weights.update(copy.deepcopy(model.state_dict()))

    runner = _train(model, steps=2, hook=hook)
    runner.optim_wrapper.optimizer.register_step_pre_hook(remember)
    before = copy.deepcopy(model.state_dict())
    batch = _batch(2)
    runner.iter = 2
    hook.before_train_iter(runner, 2, batch)
    with pytest.raises(NonFiniteTrainingError) as info:
        model.train_step(batch, runner.optim_wrapper)
    message = str(info.value)
    assert message.startswith('training iteration 3: non-finite gradient of ')
    assert 'enhancer.efe.blocks.0.depthwise.weight' in message
    assert 'from loss term loss_injected;' in message and '\n' not in message
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not weights  # the optimizer never stepped


def test_gradient_term_unknown_without_batch():
    model = _model('gradient', at_call=1)
    hook = NonFiniteGuardHook(locate_gradient_term=False)
    with pytest.raises(NonFiniteTrainingError, match=r'parameter tensors \([^)]*\); stopped'):
        _train(model, steps=1, hook=hook)


def test_refuses_non_finite_checkpoint():
    hook = NonFiniteGuardHook()
    runner = SimpleNamespace(iter=6, epoch=0, train_loop=None)
    good = dict(state_dict={'w': torch.ones(2), 'step': torch.tensor(3)})
    hook.before_save_checkpoint(runner, good)
    bad = dict(state_dict={'w': torch.tensor([1.0, float('inf')]), 'b': torch.zeros(1)})
    with pytest.raises(NonFiniteTrainingError,
                       match=r'training iteration 7: refusing to save a checkpoint .*\(1 '
                       r'tensors: w\)'):
        hook.before_save_checkpoint(runner, bad)


def test_detaches_after_training():
    model = _model('value', at_call=1)
    hook = NonFiniteGuardHook()
    runner = SimpleNamespace(model=model, optim_wrapper=OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1)), iter=0, epoch=0, train_loop=None)
    hook.before_train(runner)
    hook.after_train(runner)
    model.train_step(_batch(0), runner.optim_wrapper)  # NaN, but nobody is watching any more
    assert not _finite(model)
