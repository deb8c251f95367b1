"""Data preprocessor of standalone enhancement: uint8 images -> float RGB [0, 1] batches."""
from typing import Any, Dict, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor
from torch import Tensor

from mmlowlight.registry import MODELS


@MODELS.register_module()
class EnhanceDataPreprocessor(BaseDataPreprocessor):
    """Stack the images of a batch as float RGB in [0, 1] (no mean/std normalisation).

    Takes mmengine's ``pseudo_collate`` output ``dict(inputs=list of (3, H, W) tensors,
    data_samples=list of BaseDataElement)`` or an already stacked (N, 3, H, W) tensor. uint8
    images are divided by 255; float images are taken as already in [0, 1]. The channels are
    reversed when ``bgr_to_rgb`` (images as loaded by mmcv are BGR). Each data sample's
    ``gt_img`` (a reference image, same channel order as the inputs) is converted the same way.

    Args:
        bgr_to_rgb (bool): Reverse the channel order (BGR -> RGB). Defaults to True.
        non_blocking (bool): Copy to the device without blocking. Defaults to False.
    """

    def __init__(self, bgr_to_rgb: bool = True, non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking=non_blocking)
        self.bgr_to_rgb = bgr_to_rgb

    def _to_unit_rgb(self, image: Tensor, what: str) -> Tensor:
        """(…, 3, H, W) uint8/float in the loaded channel order -> float32 RGB [0, 1]."""
        if image.dim() not in (3, 4) or image.shape[-3] != 3:
            raise ValueError(f'EnhanceDataPreprocessor: {what} must have 3 channels '
                             f'(…, 3, H, W), got shape {tuple(image.shape)}')
        if image.dtype == torch.uint8:
            image = image.float() / 255
        elif image.is_floating_point():
            image = image.float()
        else:
            raise TypeError(f'EnhanceDataPreprocessor: {what} must be uint8 or float, '
                            f'got {image.dtype}')
        return image.flip(-3) if self.bgr_to_rgb else image

    def _stack(self, images: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        if isinstance(images, Tensor):
            if images.dim() != 4:
                raise ValueError(f'EnhanceDataPreprocessor: a stacked batch must be (N, 3, H, W), '
                                 f'got shape {tuple(images.shape)}')
            return self._to_unit_rgb(images, 'the batch')
        if len(images) == 0:
            raise ValueError('EnhanceDataPreprocessor: empty batch')
        shapes = [tuple(image.shape) for image in images]
        if len(set(shapes)) > 1:
            raise ValueError(f'EnhanceDataPreprocessor: the images of a batch must have one '
                             f'size, got shapes {shapes}; crop or resize them in the pipeline, '
                             f'or use batch_size=1')
        return torch.stack([self._to_unit_rgb(image, f'image {i}')
                            for i, image in enumerate(images)])

    def forward(self, data: Dict[str, Any], training: bool = False) -> Dict[str, Any]:
        """Convert a collated batch.

        Args:
            data (dict): ``dict(inputs=..., data_samples=...)`` (``data_samples`` optional).
            training (bool): Unused; the conversion is the same in training and testing.

        Returns:
            dict: ``inputs``: float32 (N, 3, H, W) RGB in [0, 1]; ``data_samples`` as given, each
            ``gt_img`` converted to float32 (3, H, W) RGB in [0, 1].
        """
        data = self.cast_data(data)
        inputs = self._stack(data['inputs'])
        data_samples = data.get('data_samples')
        for i, sample in enumerate(data_samples or ()):
            if sample is not None and 'gt_img' in sample:
                sample.gt_img = self._to_unit_rgb(sample.gt_img, f'gt_img of sample {i}')
        return dict(inputs=inputs, data_samples=data_samples)
