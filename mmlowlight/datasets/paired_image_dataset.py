"""Low-light images with normal-light references, for validation (e.g. LOL)."""
import os.path as osp
from typing import List, Optional

from mmlowlight.registry import DATASETS
from .unpaired_image_dataset import UnpairedImageDataset

__all__ = ['PairedImageDataset']


@DATASETS.register_module()
class PairedImageDataset(UnpairedImageDataset):
    """Pairs of a low-light image and its reference, matched by relative path.

    Each data info is ``dict(img_path=..., gt_img_path=...)``. A low image's reference is the
    file with the same relative path under the reference folder; failing that, the one with the
    same relative path and stem but another image extension (``1.png`` ↔ ``1.jpg``). Low images
    without a reference raise a ValueError that names them (silently dropping them would bias the
    scores). Non-image files and unreadable images are handled as in
    :class:`UnpairedImageDataset`.

    Args:
        data_root (str): Root joined with both prefixes.
        data_prefix (dict): ``dict(img_path=low_folder, gt_img_path=reference_folder)``.
            Defaults to ``dict(img_path='low', gt_img_path='high')`` (the LOL layout).
        **kwargs: Arguments of :class:`UnpairedImageDataset`.
    """

    def __init__(self, data_root: str = '', data_prefix: Optional[dict] = None, **kwargs) -> None:
        data_prefix = dict(img_path='low', gt_img_path='high') if data_prefix is None \
            else data_prefix
        missing = {'img_path', 'gt_img_path'} - set(data_prefix)
        if missing:
            raise ValueError(f'data_prefix needs the keys img_path and gt_img_path, got '
                             f'{data_prefix} (missing {sorted(missing)})')
        super().__init__(data_root=data_root, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Match low images and references; raises ValueError naming unmatched low images."""
        low_folder = self.data_prefix['img_path']
        gt_folder = self.data_prefix['gt_img_path']
        references = {}
        for rel in self._scan(gt_folder):
            references.setdefault(rel, rel)
            references.setdefault(osp.splitext(rel)[0], rel)
        data_list, unmatched = [], []
        for rel in self._scan(low_folder):
            gt_rel = references.get(rel) or references.get(osp.splitext(rel)[0])
            if gt_rel is None:
                unmatched.append(rel)
                continue
            data_list.append(dict(img_path=osp.join(low_folder, rel),
                                  gt_img_path=osp.join(gt_folder, gt_rel)))
        if unmatched:
            shown = ', '.join(unmatched[:20]) + (' ...' if len(unmatched) > 20 else '')
            raise ValueError(f'{len(unmatched)} image(s) in {low_folder!r} have no reference '
                             f'with the same relative path in {gt_folder!r}: {shown}')
        if not data_list:
            raise ValueError(f'no readable image pairs found in {low_folder!r} and '
                             f'{gt_folder!r}')
        return data_list
