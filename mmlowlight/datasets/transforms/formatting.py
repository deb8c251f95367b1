"""Packing a pipeline's result into the model's input format."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from mmlowlight.registry import TRANSFORMS

__all__ = ['PackEnhanceInputs']


def _to_chw_tensor(img: np.ndarray, key: str, path: str) -> torch.Tensor:
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{path}: {key} must be H x W x 3 (load with color_type="color"), got '
                         f'shape {img.shape}')
    # ascontiguousarray: crops and flips are views; torch needs owned, contiguous memory.
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


@TRANSFORMS.register_module()
class PackEnhanceInputs(BaseTransform):
    """Pack ``img`` (and ``gt_img``) for :class:`~mmlowlight.models.ZeroShotEnhancer`.

    Output: ``dict(inputs=Tensor (3, H, W), data_samples=BaseDataElement)``. The image keeps its
    dtype and channel order as loaded (uint8 BGR from mmcv's ``LoadImageFromFile``); the data
    preprocessor converts it to float RGB in [0, 1]. ``gt_img``, when present, is packed the same
    way into ``data_samples.gt_img``. The keys in ``meta_keys`` that are present become metainfo.

    Args:
        meta_keys (Sequence[str]): Result keys to copy into the metainfo.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('img_path', 'gt_img_path', 'ori_shape', 'img_shape',
                                             'scale_factor', 'flip', 'flip_direction',
                                             'crop_bbox')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        path = results.get('img_path', '<image>')
        data_sample = BaseDataElement(
            metainfo={k: results[k] for k in self.meta_keys if k in results})
        if results.get('gt_img') is not None:
            data_sample.gt_img = _to_chw_tensor(results['gt_img'], 'gt_img', path)
        return dict(inputs=_to_chw_tensor(results['img'], 'img', path), data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
