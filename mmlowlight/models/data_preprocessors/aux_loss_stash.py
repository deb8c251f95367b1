"""Carries a low-light preprocessor's auxiliary losses into the model's loss dict.

mmengine has no path for a data preprocessor to contribute losses: ``BaseModel.train_step``
(and a plain loop, ``model(**model.data_preprocessor(data, True), mode='loss')``) calls the
preprocessor, then the model, and only the model's dict reaches ``parse_losses``. So the
preprocessor stashes its losses here and the stash merges them into the output of the next
``mode='loss'`` forward of the model that owns the preprocessor, through a forward hook that
exists only while losses wait (a process-wide one, since a module cannot find its parent; it
costs one attribute lookup per module call of that forward) or through the hook that
``mmlowlight.AuxLossHook`` puts on the model.

A training step really loses the losses only when a backward pass runs through the enhanced
batch while they still wait (e.g. ``model.loss(...)`` was called directly, which skips forward
hooks): a gradient hook on the enhanced batch raises then. Stale losses of a step that never
reached a loss (a preprocessor call for inspection, a following ``predict``) are dropped.
"""
import weakref
from typing import Any, Dict, Mapping, Optional, Tuple

import torch.nn as nn
from torch import Tensor
from torch.nn.modules.module import register_module_forward_hook
from torch.utils.hooks import RemovableHandle

__all__ = ['AuxLossStash', 'merge_losses']


def merge_losses(output: Mapping[str, Any], aux_losses: Mapping[str, Tensor],
                 model_name: str) -> Dict[str, Any]:
    """``output`` (a model's loss dict) with ``aux_losses`` added.

    Raises:
        KeyError: An auxiliary loss has the name of one of the model's losses.
    """
    clash = sorted(set(aux_losses) & set(output))
    if clash:
        raise KeyError(f'auxiliary enhancement losses {clash} clash with losses of {model_name}')
    merged = dict(output)
    merged.update(aux_losses)
    return merged


def forward_mode(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> str:
    """The ``mode`` of ``BaseModel.forward(inputs, data_samples=None, mode='tensor')``."""
    return kwargs.get('mode', args[2] if len(args) > 2 else 'tensor')


class AuxLossStash:
    """The auxiliary losses of one training step of a preprocessor, until a loss dict takes them.

    Args:
        owner (nn.Module): The preprocessor (held weakly: a waiting hook keeps nothing alive).
    """

    def __init__(self, owner: nn.Module) -> None:
        self._owner = weakref.ref(owner)
        self._losses: Optional[Dict[str, Tensor]] = None
        self._step = 0
        self._hook: Optional[RemovableHandle] = None
        #: Merge through a process-wide forward hook; ``AuxLossHook`` turns it off while its
        #: own hook on the model does the merging.
        self.merge_automatically = True

    def __deepcopy__(self, memo: dict) -> 'AuxLossStash':
        # A model copy (EMA, TTA) starts with nothing waiting and belongs to the copied
        # preprocessor, which copy.deepcopy has put in memo before copying its attributes.
        owner = self._owner()
        copied = AuxLossStash(memo.get(id(owner), owner))
        copied.merge_automatically = self.merge_automatically
        return copied

    @property
    def waiting(self) -> bool:
        """Whether losses of a training step wait for a loss dict."""
        return self._losses is not None

    def put(self, losses: Dict[str, Tensor], enhanced: Tensor) -> None:
        """Stash a training step's losses; ``enhanced`` is the batch the model will get."""
        self.discard()
        self._losses = losses
        self._step += 1
        if self.merge_automatically:
            self._hook = register_module_forward_hook(self._merge_hook, with_kwargs=True)
        if enhanced.requires_grad:
            step = self._step
            enhanced.register_hook(lambda grad: self._check_taken(step))

    def pop(self) -> Dict[str, Tensor]:
        """Hand the waiting losses over (once); {} if none."""
        losses = self._losses
        self.discard()
        return losses or {}

    def discard(self) -> None:
        """Drop waiting losses and the forward hook."""
        self._losses = None
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def merge_into(self, model: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                   output: Any) -> Optional[Dict[str, Any]]:
        """Forward hook of ``model``: its loss dict with the waiting losses; None otherwise."""
        if not self.waiting or forward_mode(args, kwargs) != 'loss' or not isinstance(
                output, Mapping):
            return None
        return merge_losses(output, self.pop(), type(model).__name__)

    def _owns(self, module: nn.Module) -> bool:
        preprocessor = getattr(module, 'data_preprocessor', None)
        if not isinstance(preprocessor, nn.Module):
            return False
        owner = self._owner()
        # Also when wrapped (e.g. mmdet's MultiBranchDataPreprocessor holds ours).
        return preprocessor is owner or any(m is owner for m in preprocessor.modules())

    def _merge_hook(self, module: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                    output: Any) -> Optional[Dict[str, Any]]:
        if self._owner() is None:
            self.discard()
            return None
        if not self._owns(module):
            return None
        return self.merge_into(module, args, kwargs, output)

    def _check_taken(self, step: int) -> None:
        if self.waiting and self._step == step:
            names = sorted(self._losses)
            self.discard()
            raise RuntimeError(
                f'backward ran through the enhanced batch, but the auxiliary enhancement '
                f'losses {names} of this training step never reached the loss: call the model '
                "as model(**data, mode='loss') (its output then holds them), or add "
                'model.data_preprocessor.pop_aux_losses() to your losses before backward')
