"""SGZ enhancement prepended to any mmseg segmentor (imports mmseg: load it lazily)."""
from mmseg.models.data_preprocessor import SegDataPreProcessor

from .low_light_mixin import LowLightPreprocessorMixin

__all__ = ['LowLightSegDataPreProcessor', 'LowLightSegDataPreprocessor']


class LowLightSegDataPreProcessor(LowLightPreprocessorMixin, SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` followed by an SGZ enhancer.

    After normalisation and padding, each image is enhanced in RGB [0, 1] and mapped back;
    padding keeps ``pad_val`` (and the labels' ``seg_pad_val`` padding, which mmseg writes at
    the same right/bottom places, stays aligned with it). Where an image lies comes from the
    size of the tensor it arrived as, not from ``padding_size`` / ``img_shape``, which batches
    built by hand may lack; an ``img_shape`` that disagrees with the tensor is reported once in
    a warning. With a factor map ``r == 0`` the output equals ``SegDataPreProcessor``'s bit for
    bit. Images are assumed to be loaded BGR (mmcv's default): the model input is RGB exactly
    when ``bgr_to_rgb`` (channel conversion) is on. mmseg's slide inference crops after this,
    so the enhancer always sees the whole image.

    Configs refer to it as ``type='mmlowlight.LowLightSegDataPreProcessor'`` (also spelt
    ``LowLightSegDataPreprocessor``).

    Args:
        enhancer (dict, optional): Config of the enhancer; None: the enhancer the checkpoint
            implies (see ``LowLightDetDataPreprocessor``). Defaults to None.
        enhancer_checkpoint (str | None | bool): A path, None for the package default weights,
            False for none. Defaults to None.
        freeze (bool): Keep the enhancer fixed (True) or train it jointly. Defaults to True.
        aux_losses (list[dict], optional): Auxiliary enhancement losses (need
            ``freeze=False``), returned in the segmentor's next ``mode='loss'`` dict.
            Defaults to None.
        **kwargs: Arguments of ``SegDataPreProcessor`` (mean, std, bgr_to_rgb, size,
            size_divisor, pad_val, seg_pad_val, test_cfg, ...).
    """

    @property
    def _model_order_is_rgb(self) -> bool:
        return self.channel_conversion


#: mmdet's spelling (``DetDataPreprocessor``), accepted as well.
LowLightSegDataPreprocessor = LowLightSegDataPreProcessor
