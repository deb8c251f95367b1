"""Merges a low-light data preprocessor's auxiliary losses into the loss dict through the model.

The low-light preprocessors hand their auxiliary losses to the loss dict of the next
``mode='loss'`` forward of the model that owns them by themselves, through a process-wide
forward hook that exists while losses wait (see
:mod:`mmlowlight.models.data_preprocessors.aux_loss_stash`), so plain-Python loops get them
too. In a Runner this hook does the same merge through a forward hook on the unwrapped model
instead, which also fires under DDP (``DDP.forward`` calls the module), and checks before
training that the model has a preprocessor that can carry auxiliary losses.
"""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.hooks import RemovableHandle

from mmlowlight.registry import HOOKS
from .enhancer_pipeline_hook import record_enhancer_pipeline

__all__ = ['AuxLossHook']


@HOOKS.register_module()
class AuxLossHook(Hook):
    """Add the losses stashed by ``model.data_preprocessor`` to the model's loss dict.

    Optional (``custom_hooks=[dict(type='mmlowlight.AuxLossHook')]``): without it a
    ``LowLightDetDataPreprocessor`` / ``LowLightSegDataPreProcessor`` with ``aux_losses``
    merges them itself. With it, the merge is bound to the trained model for the run, and a
    config whose preprocessor cannot carry auxiliary losses fails before training. The merged
    entries (e.g. ``loss_exposure``) are summed into the total loss and logged by
    ``parse_losses``.

    It also records the enhancer's pipeline (``data_preprocessor.enhancer_args``: scale,
    exposure control, denoiser) in every checkpoint as ``meta['enhancer']``, so that the jointly
    trained checkpoint, given as ``enhancer_checkpoint`` or to ``init_enhancer``, builds the
    pipeline it was trained in.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._handle: Optional[RemovableHandle] = None
        self._preprocessor: Optional[nn.Module] = None

    def before_train(self, runner) -> None:
        """Attach the forward hook to the (unwrapped) model."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        preprocessor = getattr(model, 'data_preprocessor', None)
        if not callable(getattr(preprocessor, 'merge_aux_losses', None)):
            raise TypeError(
                'AuxLossHook needs a low-light data preprocessor (e.g. '
                "type='mmlowlight.LowLightDetDataPreprocessor'), but the model's "
                f'data_preprocessor is {type(preprocessor).__name__}')
        self._remove()
        self._preprocessor = preprocessor
        preprocessor.merge_aux_losses_automatically = False
        self._handle = model.register_forward_hook(preprocessor.merge_aux_losses,
                                                   with_kwargs=True)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the enhancer's pipeline in ``checkpoint['meta']['enhancer']``."""
        record_enhancer_pipeline(runner, checkpoint)

    def after_train(self, runner) -> None:
        """Detach the forward hook; the preprocessor merges by itself again."""
        self._remove()

    def _remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        if self._preprocessor is not None:
            self._preprocessor.merge_aux_losses_automatically = True
            self._preprocessor = None
