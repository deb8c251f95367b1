"""The mmseg class behind ``mmlowlight.ACDCNightDataset`` (imports mmseg; see ``acdc.py``)."""
from typing import List

from mmengine import fileio
from mmseg.datasets import CityscapesDataset

__all__ = ['ACDCNightDataset']


class ACDCNightDataset(CityscapesDataset):
    """ACDC night images with Cityscapes train-id labels.

    Use ``data_prefix=dict(img_path='rgb_anon/night/train', seg_map_path='gt/night/train')``
    (or ``val``); images are found recursively, so the ``GOPRxxxx`` sequence folders need no
    listing. Unlike mmseg's base class, which only lists images, loading checks that every
    image has its label and that the split is not empty, naming the missing files.

    Args:
        img_suffix (str): Image file suffix. Defaults to ``'_rgb_anon.png'``.
        seg_map_suffix (str): Label file suffix. Defaults to ``'_gt_labelTrainIds.png'``.
        **kwargs: Further arguments of mmseg's ``BaseSegDataset``.
    """

    def __init__(self,
                 img_suffix: str = '_rgb_anon.png',
                 seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List image/label pairs, sorted by image path.

        Returns:
            list[dict]: mmseg data infos (``img_path``, ``seg_map_path``, ...).

        Raises:
            FileNotFoundError: No image ends with ``img_suffix`` under the image folder, or some
                images have no label (their label paths are listed).
        """
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path')
        if not data_list:
            raise FileNotFoundError(f'no "*{self.img_suffix}" images under {img_dir}')
        missing = [
            info['seg_map_path'] for info in data_list if 'seg_map_path' in info
            and not fileio.exists(info['seg_map_path'], backend_args=self.backend_args)
        ]
        if missing:
            listed = '\n  '.join(missing[:20])
            raise FileNotFoundError(f'{len(missing)} label(s) missing for images under '
                                    f'{img_dir}:\n  {listed}')
        return data_list
