"""Loading the reference (normal-light) image of a pair."""
from typing import Optional

from mmcv.transforms import LoadImageFromFile

from mmlowlight.registry import TRANSFORMS

__all__ = ['LoadReferenceImage']


@TRANSFORMS.register_module()
class LoadReferenceImage(LoadImageFromFile):
    """Load ``results['gt_img_path']`` into ``results['gt_img']`` exactly as mmcv's
    :class:`~mmcv.transforms.LoadImageFromFile` loads ``img`` (BGR uint8 H x W x 3 by default).

    Run it after ``LoadImageFromFile``: the reference must have the low image's size, otherwise a
    ValueError names both files and sizes.

    Required keys: ``gt_img_path`` (and ``img`` for the size check). Added keys: ``gt_img``.

    Args:
        **kwargs: Arguments of :class:`~mmcv.transforms.LoadImageFromFile` (``color_type``,
            ``imdecode_backend``, ``backend_args``, ``to_float32`` ...).
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load the reference; returns None only when ``ignore_empty`` and it is missing."""
        if 'gt_img_path' not in results:
            raise KeyError('LoadReferenceImage needs results["gt_img_path"] (use '
                           f'PairedImageDataset); got keys {sorted(results)}')
        loaded = super().transform({'img_path': results['gt_img_path']})
        if loaded is None:
            return None
        gt_img = loaded['img']
        img = results.get('img')
        if img is not None and img.shape[:2] != gt_img.shape[:2]:
            raise ValueError(
                f'reference {results["gt_img_path"]} is {gt_img.shape[1]}x{gt_img.shape[0]} '
                f'but {results.get("img_path")} is {img.shape[1]}x{img.shape[0]} (W x H); '
                'pairs must have the same size')
        results['gt_img'] = gt_img
        return results
