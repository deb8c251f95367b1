"""SGZ enhancement prepended to any mmdet detector (imports mmdet: load it lazily)."""
from mmdet.models.data_preprocessors import DetDataPreprocessor

from .low_light_mixin import LowLightPreprocessorMixin

__all__ = ['LowLightDetDataPreprocessor']


class LowLightDetDataPreprocessor(LowLightPreprocessorMixin, DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` followed by an SGZ enhancer.

    After normalisation, padding and batch augmentations, each image's valid region
    (``img_shape``) is enhanced in RGB [0, 1] and mapped back; padding keeps ``pad_value``.
    With a factor map ``r == 0`` the output equals ``DetDataPreprocessor``'s bit for bit.
    Images are assumed to be loaded BGR (mmcv's default): the model input is RGB exactly when
    ``bgr_to_rgb`` (channel conversion) is on.

    Configs refer to it as ``type='mmlowlight.LowLightDetDataPreprocessor'`` (see
    :mod:`mmlowlight.models.data_preprocessors.builders`).

    Args:
        enhancer (dict): Config of the enhancer, e.g. ``dict(type='SGZEnhancer',
            scale_factor=12)``; built in the ``mmlowlight`` scope unless it sets ``_scope_``.
            Called on (N, 3, h, w) RGB [0, 1]; returns (enhanced, factor map).
        enhancer_checkpoint (str | None | bool): Enhancer weights, loaded now
            (``weights_only=True``): a path to our checkpoint (any mmengine checkpoint holding
            the enhancer) or to the official SGZ ``Epoch99.pth``; None: the package default
            weights ``mmlowlight/weights/sgz_default.pth``; False: none (random init through
            ``init_weights``, for training from scratch). Defaults to None.
        freeze (bool): True keeps the enhancer fixed (eval mode, no gradients, run under
            ``no_grad``); False trains it jointly with the detector. Defaults to True.
        aux_losses (list[dict], optional): Loss configs (mmlowlight losses with the call
            ``loss(enhanced, original, factor)`` and a ``loss_name``), computed in training
            steps on valid pixels only and merged into the detector's losses by
            ``mmlowlight.AuxLossHook``. Need ``freeze=False``. Defaults to None.
        **kwargs: Arguments of ``DetDataPreprocessor`` (mean, std, bgr_to_rgb,
            pad_size_divisor, pad_value, batch_augments, ...).
    """

    @property
    def _model_order_is_rgb(self) -> bool:
        return self._channel_conversion
