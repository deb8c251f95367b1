"""Geometric transforms that keep an optional reference image (``gt_img``) aligned with ``img``.

mmcv's ``Resize`` and ``RandomFlip`` know ``img``, boxes, segmentation maps and keypoints but not a
second image, and mmcv has no random crop; these apply one random draw to both images.
"""
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, RandomFlip, Resize
from mmcv.transforms.utils import cache_randomness

from mmlowlight.registry import TRANSFORMS

__all__ = ['PairedResize', 'PairedRandomFlip', 'PairedRandomCrop']


@TRANSFORMS.register_module()
class PairedResize(Resize):
    """mmcv :class:`~mmcv.transforms.Resize` that also resizes ``gt_img`` to the new image size.

    Usable inside ``RandomResize(..., resize_type='mmlowlight.PairedResize')``.

    Args:
        **kwargs: Arguments of :class:`~mmcv.transforms.Resize` (``scale``, ``scale_factor``,
            ``keep_ratio``, ``backend``, ``interpolation``).
    """

    def _resize_img(self, results: dict) -> None:
        super()._resize_img(results)
        if results.get('gt_img') is not None and results.get('img') is not None:
            height, width = results['img'].shape[:2]
            results['gt_img'] = mmcv.imresize(
                results['gt_img'], (width, height), interpolation=self.interpolation,
                backend=self.backend)


@TRANSFORMS.register_module()
class PairedRandomFlip(RandomFlip):
    """mmcv :class:`~mmcv.transforms.RandomFlip` that flips ``gt_img`` with ``img``.

    Args:
        **kwargs: Arguments of :class:`~mmcv.transforms.RandomFlip` (``prob``, ``direction``).
    """

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        if results.get('gt_img') is not None:
            results['gt_img'] = mmcv.imflip(results['gt_img'],
                                            direction=results['flip_direction'])


@TRANSFORMS.register_module()
class PairedRandomCrop(BaseTransform):
    """Crop ``img`` (and ``gt_img``, if present) at the same random window of a fixed size.

    An image smaller than the window on either side is first enlarged, keeping its aspect ratio,
    until the window fits, so every sample of a batch has the same size and no image is dropped.

    Required keys: ``img``. Modified keys: ``img``, ``gt_img`` (optional), ``img_shape``.
    Added keys: ``crop_bbox`` (x1, y1, x2, y2 in the image before cropping).

    Args:
        crop_size (int | tuple[int, int]): Window size, ``(width, height)`` as in mmcv, or one
            int for a square.
        interpolation (str): mmcv interpolation used when an image must be enlarged.
            Defaults to ``'bilinear'``.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]],
                 interpolation: str = 'bilinear') -> None:
        if isinstance(crop_size, int):
            crop_size = (crop_size, crop_size)
        if not (isinstance(crop_size, Sequence) and len(crop_size) == 2
                and all(isinstance(s, int) and s > 0 for s in crop_size)):
            raise ValueError(f'crop_size must be a positive int or a (width, height) pair of '
                             f'positive ints, got {crop_size!r}')
        self.crop_size = tuple(crop_size)
        self.interpolation = interpolation

    @cache_randomness
    def _random_offset(self, height: int, width: int) -> Tuple[int, int]:
        crop_w, crop_h = self.crop_size
        return (np.random.randint(0, height - crop_h + 1),
                np.random.randint(0, width - crop_w + 1))

    def _enlarge_to_fit(self, img: np.ndarray) -> np.ndarray:
        height, width = img.shape[:2]
        crop_w, crop_h = self.crop_size
        if height >= crop_h and width >= crop_w:
            return img
        ratio = max(crop_h / height, crop_w / width)
        # Round up so that float error never leaves a side one pixel short.
        size = (max(crop_w, int(np.ceil(width * ratio))), max(crop_h, int(np.ceil(height * ratio))))
        return mmcv.imresize(img, size, interpolation=self.interpolation)

    def transform(self, results: dict) -> dict:
        img = self._enlarge_to_fit(results['img'])
        gt_img: Optional[np.ndarray] = results.get('gt_img')
        if gt_img is not None:
            gt_img = self._enlarge_to_fit(gt_img)
            if gt_img.shape[:2] != img.shape[:2]:
                raise ValueError(f'img {img.shape[:2]} and gt_img {gt_img.shape[:2]} of '
                                 f'{results.get("img_path")} differ in size; cannot crop alike')
        top, left = self._random_offset(*img.shape[:2])
        crop_w, crop_h = self.crop_size
        window = (slice(top, top + crop_h), slice(left, left + crop_w))
        results['img'] = img[window]
        if gt_img is not None:
            results['gt_img'] = gt_img[window]
        results['img_shape'] = results['img'].shape[:2]
        results['crop_bbox'] = (left, top, left + crop_w, top + crop_h)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'interpolation={self.interpolation!r})')
