"""SGZ enhancement prepended to any mmdet detector (imports mmdet: load it lazily)."""
from typing import List, Tuple

from mmdet.models.data_preprocessors import DetDataPreprocessor

from .batch_augment_extents import follow_batch_augment
from .image_extents import Extent
from .low_light_mixin import LowLightPreprocessorMixin

__all__ = ['LowLightDetDataPreprocessor', 'LowLightDetDataPreProcessor']


class LowLightDetDataPreprocessor(LowLightPreprocessorMixin, DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` followed by an SGZ enhancer.

    After normalisation, padding and batch augmentations, each image is enhanced in RGB [0, 1]
    and mapped back; padding keeps ``pad_value``. Where an image lies comes from the size of the
    tensor it arrived as, followed through the batch augments (so batches built by hand, with
    or without data samples and metainfo, are handled alike); an ``img_shape`` that disagrees
    with the tensor is reported once in a warning. With a factor map ``r == 0`` the output
    equals ``DetDataPreprocessor``'s bit for bit. Images are assumed to be loaded BGR (mmcv's
    default): the model input is RGB exactly when ``bgr_to_rgb`` (channel conversion) is on.

    Configs refer to it as ``type='mmlowlight.LowLightDetDataPreprocessor'`` (also spelt
    ``LowLightDetDataPreProcessor``; see :mod:`mmlowlight.models.data_preprocessors.builders`).

    Args:
        enhancer (dict, optional): Config of the enhancer, e.g. ``dict(type='SGZEnhancer',
            scale_factor=12)``; built in the ``mmlowlight`` scope unless it sets ``_scope_``.
            Called on (N, 3, h, w) RGB [0, 1]; returns (enhanced, factor map). None: the
            enhancer the checkpoint implies, as ``mmlowlight.apis.init_enhancer`` builds it
            (its architecture plus its ``meta['enhancer']``; with ``enhancer_checkpoint=False``
            that of the package default weights). Defaults to None.
        enhancer_checkpoint (str | None | bool): Enhancer weights, loaded now
            (``weights_only=True``): a path to our checkpoint (any mmengine checkpoint holding
            the enhancer) or to the official SGZ ``Epoch99.pth``; None: the package default
            weights ``mmlowlight/weights/sgz_default.pth``; False: none (random init through
            ``init_weights``, for training from scratch). Defaults to None.
        freeze (bool): True keeps the enhancer fixed (eval mode, no gradients, run under
            ``no_grad``); False trains it jointly with the detector. Defaults to True.
        aux_losses (list[dict], optional): Loss configs (mmlowlight losses with the call
            ``loss(enhanced, original, factor)`` and a ``loss_name``), computed in training
            steps on the images' pixels only and returned in the loss dict of the detector's
            next ``mode='loss'`` forward (Runner or plain Python alike). Need
            ``freeze=False``. Defaults to None.
        **kwargs: Arguments of ``DetDataPreprocessor`` (mean, std, bgr_to_rgb,
            pad_size_divisor, pad_value, batch_augments, ...).
    """

    @property
    def _model_order_is_rgb(self) -> bool:
        return self._channel_conversion

    def _forward_parent(self, data: dict, training: bool,
                        extents: List[Extent]) -> Tuple[dict, List[Extent]]:
        """``DetDataPreprocessor.forward``, with its batch augments run here one by one so
        that the image extents follow each (mmdet runs them last, in this order)."""
        augments = self.batch_augments
        if not training or augments is None:
            return super()._forward_parent(data, training, extents)
        self.batch_augments = None
        try:
            data, extents = super()._forward_parent(data, training, extents)
        finally:
            self.batch_augments = augments
        inputs, data_samples = data['inputs'], data['data_samples']
        for augment in augments:
            before = tuple(inputs.shape[-2:])
            inputs, data_samples = augment(inputs, data_samples)
            extents = follow_batch_augment(augment, extents, before, tuple(inputs.shape[-2:]),
                                           data_samples)
        return {'inputs': inputs, 'data_samples': data_samples}, extents


#: mmseg's spelling (``SegDataPreProcessor``), accepted as well.
LowLightDetDataPreProcessor = LowLightDetDataPreprocessor
