"""Merges the enhancer's auxiliary losses of a low-light data preprocessor into the loss dict.

mmengine has no path for a data preprocessor to contribute losses: ``BaseModel.train_step`` runs
``data_preprocessor(data, True)``, then ``model(**data, mode='loss')`` and ``parse_losses`` on
what the model returns. The low-light preprocessors therefore stash their losses and this hook
adds them to the model's output through a forward hook on the unwrapped model, which also fires
under DDP (``DDP.forward`` calls the module) and works for any detector or segmentor without
touching its class or its state dict.
"""
from typing import Any, Dict, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.hooks import RemovableHandle

from mmlowlight.registry import HOOKS

__all__ = ['AuxLossHook']


@HOOKS.register_module()
class AuxLossHook(Hook):
    """Add the losses stashed by ``model.data_preprocessor`` to the model's loss dict.

    Needed in the config (``custom_hooks=[dict(type='mmlowlight.AuxLossHook')]``) whenever a
    ``LowLightDetDataPreprocessor`` / ``LowLightSegDataPreProcessor`` has ``aux_losses``; the
    preprocessor raises in the next step if its losses were not consumed. The merged entries
    (e.g. ``loss_exposure``) are summed into the total loss and logged by ``parse_losses``.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._handle: Optional[RemovableHandle] = None

    def before_train(self, runner) -> None:
        """Attach the forward hook to the (unwrapped) model."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        preprocessor = getattr(model, 'data_preprocessor', None)
        if not callable(getattr(preprocessor, 'pop_aux_losses', None)):
            raise TypeError(
                'AuxLossHook needs a low-light data preprocessor (e.g. '
                "type='mmlowlight.LowLightDetDataPreprocessor'), but the model's "
                f'data_preprocessor is {type(preprocessor).__name__}')
        self._remove()
        self._handle = model.register_forward_hook(self._merge_losses, with_kwargs=True)

    def after_train(self, runner) -> None:
        """Detach the forward hook."""
        self._remove()

    def _remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    @staticmethod
    def _merge_losses(model: nn.Module, args: Tuple[Any, ...], kwargs: Dict[str, Any],
                      output: Any) -> Any:
        # BaseModel.forward(inputs, data_samples=None, mode='tensor'); mmengine passes mode
        # by keyword, positional use is handled too.
        mode = kwargs.get('mode', args[2] if len(args) > 2 else 'tensor')
        if mode != 'loss':
            return None
        aux_losses = model.data_preprocessor.pop_aux_losses()
        if not aux_losses:
            return None
        clash = sorted(set(aux_losses) & set(output))
        if clash:
            raise KeyError(f'auxiliary enhancement losses {clash} clash with losses of '
                           f'{type(model).__name__}')
        merged = dict(output)
        merged.update(aux_losses)
        return merged
