"""SGZ enhancement prepended to any mmseg segmentor (imports mmseg: load it lazily)."""
from mmseg.models.data_preprocessor import SegDataPreProcessor

from .low_light_mixin import LowLightPreprocessorMixin

__all__ = ['LowLightSegDataPreProcessor']


class LowLightSegDataPreProcessor(LowLightPreprocessorMixin, SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` followed by an SGZ enhancer.

    After normalisation and padding, each image's valid region (from ``padding_size`` /
    ``img_shape``) is enhanced in RGB [0, 1] and mapped back; padding keeps ``pad_val``.
    With a factor map ``r == 0`` the output equals ``SegDataPreProcessor``'s bit for bit.
    Images are assumed to be loaded BGR (mmcv's default): the model input is RGB exactly when
    ``bgr_to_rgb`` (channel conversion) is on. mmseg's slide inference crops after this, so the
    enhancer always sees the whole image.

    Configs refer to it as ``type='mmlowlight.LowLightSegDataPreProcessor'``.

    Args:
        enhancer (dict): Config of the enhancer (see ``LowLightDetDataPreprocessor``).
        enhancer_checkpoint (str | None | bool): A path, None for the package default weights,
            False for none. Defaults to None.
        freeze (bool): Keep the enhancer fixed (True) or train it jointly. Defaults to True.
        aux_losses (list[dict], optional): Auxiliary enhancement losses (need
            ``freeze=False`` and ``mmlowlight.AuxLossHook``). Defaults to None.
        **kwargs: Arguments of ``SegDataPreProcessor`` (mean, std, bgr_to_rgb, size,
            size_divisor, pad_val, seg_pad_val, test_cfg, ...).
    """

    @property
    def _model_order_is_rgb(self) -> bool:
        return self.channel_conversion
