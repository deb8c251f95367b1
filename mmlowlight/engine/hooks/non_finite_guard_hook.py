"""Stop training at the first non-finite loss or gradient, before it reaches the weights.

A NaN in one loss term, or an infinite derivative somewhere in the graph, turns every weight
into NaN at the next optimizer step; mmengine then goes on training, logging ``nan`` and writing
checkpoints of NaN weights. This hook checks where nothing has been changed yet:

- each loss term, in a forward hook on the model's ``mode='loss'`` output (before backward);
- every gradient, in a step pre-hook of the optimizer (after backward, gradient clipping and,
  under DDP, the all-reduce, so that all ranks stop together; under AMP the pre-hook only runs
  for steps the loss scaler takes, so its skipped overflow steps pass as before);
- every checkpoint's weights, before it is written.

It raises :class:`NonFiniteTrainingError`, whose message names the iteration and the loss term
(for a gradient, the term is found by re-running the batch and differentiating each term
alone), and the weights stay those of the last good step.
"""
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.runner import EpochBasedTrainLoop
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from mmlowlight.registry import HOOKS

__all__ = ['NonFiniteGuardHook', 'NonFiniteTrainingError']


class NonFiniteTrainingError(FloatingPointError):
    """Training produced a NaN or infinite loss, gradient or weight; nothing was updated."""


def _tensors(value: Any) -> List[Tensor]:
    """The tensors of one loss entry (a tensor or a list of them, as mmdet's per-level ones)."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    return []


def _loss_terms(losses: Mapping[str, Any]) -> Dict[str, List[Tensor]]:
    # mmengine's parse_losses sums (and back-propagates) only the keys that contain 'loss'.
    return {name: _tensors(value) for name, value in losses.items()
            if 'loss' in name and _tensors(value)}


def _value(tensors: Sequence[Tensor]) -> float:
    return float(sum(t.detach().float().mean() for t in tensors))


def _all_finite(tensors: Sequence[Tensor]) -> bool:
    """One host sync per device, not per tensor."""
    flags: Dict[torch.device, List[Tensor]] = {}
    for tensor in tensors:
        flags.setdefault(tensor.device, []).append(torch.isfinite(tensor).all())
    return all(bool(torch.stack(group).all()) for group in flags.values())


def _some(names: Sequence[str], limit: int = 3) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f' and {len(names) - limit} more' if len(names) > limit else '')


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Raise :class:`NonFiniteTrainingError` at the first non-finite loss, gradient or weight.

    On by default in mmlowlight's standalone configs (``configs/_base_/default_runtime.py``);
    other configs add ``custom_hooks=[..., dict(type='mmlowlight.NonFiniteGuardHook')]``.
    The checks cost one finiteness test per loss term and per parameter tensor each step;
    locating the guilty term of a non-finite gradient re-runs that batch once, on failure only.

    Args:
        check_gradients (bool): Also check the gradients before each optimizer step.
            Defaults to True.
        check_checkpoints (bool): Refuse to save a checkpoint with non-finite weights.
            Defaults to True.
        locate_gradient_term (bool): On a non-finite gradient, re-run the batch to name the loss
            term it comes from. Defaults to True.
    """

    # After AuxLossHook (NORMAL): its forward hook adds the preprocessor's losses to the
    # output, and hooks registered later see what earlier ones returned.
    priority = 'BELOW_NORMAL'

    def __init__(self, check_gradients: bool = True, check_checkpoints: bool = True,
                 locate_gradient_term: bool = True) -> None:
        self.check_gradients = check_gradients
        self.check_checkpoints = check_checkpoints
        self.locate_gradient_term = locate_gradient_term
        self._handles: List[RemovableHandle] = []
        self._runner = None
        self._model: Optional[nn.Module] = None
        self._data_batch: Any = None
        self._relooking = False

    # -- runner hooks ------------------------------------------------------------------------

    def before_train(self, runner) -> None:
        """Attach the loss check to the model and the gradient check to the optimizer(s)."""
        self._remove()
        self._runner = runner
        self._model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._handles.append(
            self._model.register_forward_hook(self._check_losses, with_kwargs=True))
        if self.check_gradients:
            wrappers = (runner.optim_wrapper.values()
                        if isinstance(runner.optim_wrapper, OptimWrapperDict)
                        else [runner.optim_wrapper])
            for wrapper in wrappers:
                self._handles.append(
                    wrapper.optimizer.register_step_pre_hook(self._check_gradients))

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        """Keep the batch, to re-run it if a gradient turns out non-finite."""
        self._data_batch = data_batch

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        self._data_batch = None

    def after_train(self, runner) -> None:
        """Detach the checks."""
        self._remove()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse to write weights that are not finite."""
        if not self.check_checkpoints:
            return
        bad = [name for name, value in checkpoint.get('state_dict', {}).items()
               if isinstance(value, Tensor) and value.is_floating_point()
               and not torch.isfinite(value).all()]
        if bad:
            raise NonFiniteTrainingError(
                f'{self._where(runner)}: refusing to save a checkpoint whose weights are not '
                f'finite ({len(bad)} tensors: {_some(bad)})')

    # -- checks --------------------------------------------------------------------------

    def _where(self, runner=None) -> str:
        runner = runner or self._runner
        where = f'training iteration {runner.iter + 1}'
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            where += f' (epoch {runner.epoch + 1})'
        return where

    def _check_losses(self, model: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                      output: Any) -> None:
        mode = kwargs.get('mode', args[2] if len(args) > 2 else 'tensor')
        if self._relooking or mode != 'loss' or not isinstance(output, Mapping):
            return
        terms = _loss_terms(output)
        bad = [name for name, tensors in terms.items() if not _all_finite(tensors)]
        if bad:
            values = ', '.join(f'{name}={_value(t):.4g}' for name, t in terms.items())
            raise NonFiniteTrainingError(
                f'{self._where()}: non-finite loss term {", ".join(bad)} ({values}); stopped '
                'before the backward pass, the weights are those of the previous step')

    def _check_gradients(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        params = [p for group in optimizer.param_groups for p in group['params']
                  if p.grad is not None]
        if not params or _all_finite([p.grad for p in params]):
            return
        names = {id(p): name for name, p in self._model.named_parameters()}
        bad = [names.get(id(p), '<unnamed>') for p in params if not torch.isfinite(p.grad).all()]
        raise NonFiniteTrainingError(
            f'{self._where()}: non-finite gradient of {len(bad)} of {len(params)} parameter '
            f'tensors ({_some(bad)}){self._guilty_terms()}; stopped before the optimizer step, '
            'the weights are those of the previous step')

    def _guilty_terms(self) -> str:
        """``', from loss term X'``: the terms whose own gradient is not finite on this batch."""
        if not self.locate_gradient_term or self._data_batch is None:
            return ''
        model = self._model
        self._relooking = True
        try:
            with torch.enable_grad():
                data = model.data_preprocessor(self._data_batch, True)
                losses = model._run_forward(data, mode='loss')
            params = [p for p in model.parameters() if p.requires_grad]
            guilty = []
            for name, tensors in _loss_terms(losses).items():
                total = sum(t.mean() for t in tensors)
                if not total.requires_grad:
                    continue
                grads = torch.autograd.grad(total, params, retain_graph=True, allow_unused=True)
                if not _all_finite([g for g in grads if g is not None] or [total]):
                    guilty.append(name)
        except Exception as exc:  # a diagnosis must not hide the error it diagnoses
            return f' (re-running the batch to find the loss term failed: {exc!r})'
        finally:
            self._relooking = False
        if not guilty:
            return (', which no single loss term gives on its own when the batch is re-run '
                    '(random augmentation or dropout?)')
        return f', from loss term {", ".join(guilty)}'

    def _remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
