"""Records the enhancer's pipeline in every checkpoint, so the checkpoint rebuilds it."""
import copy

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmlowlight.registry import HOOKS

__all__ = ['EnhancerPipelineHook', 'record_enhancer_pipeline']


def record_enhancer_pipeline(runner, checkpoint: dict) -> None:
    """Write the model's enhancer arguments into ``checkpoint['meta']['enhancer']``.

    The arguments are ``enhancer_args`` of a ``ZeroShotEnhancer`` or of a low-light data
    preprocessor (scale, exposure control, denoiser): what :func:`mmlowlight.apis.init_enhancer`
    and ``enhancer_checkpoint=`` read back. A model without an enhancer is left alone.
    """
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    for owner in (model, getattr(model, 'data_preprocessor', None)):
        args = getattr(owner, 'enhancer_args', None)
        if isinstance(args, dict):
            checkpoint.setdefault('meta', {})['enhancer'] = copy.deepcopy(args)
            return


@HOOKS.register_module()
class EnhancerPipelineHook(Hook):
    """Record the enhancer's pipeline (``meta['enhancer']``) in every checkpoint.

    A checkpoint of a ``ZeroShotEnhancer`` run (e.g. the adaptation recipe) then loads as
    ``enhancer_checkpoint=`` in a detector config, or in ``init_enhancer``, with the exposure
    control and denoiser it was trained with. ``AuxLossHook`` does the same for joint runs.
    """

    priority = 'LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        record_enhancer_pipeline(runner, checkpoint)
