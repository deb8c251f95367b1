"""A dataset of unlabelled images: the training data of zero-reference enhancement."""
import os.path as osp
import warnings
from typing import List, Optional, Sequence

import cv2
from mmengine.dataset import BaseDataset

from mmlowlight.registry import DATASETS
from .image_folder import IMG_EXTENSIONS, scan_image_folder

__all__ = ['UnpairedImageDataset']

# What loading a broken image raises through mmcv's LoadImageFromFile: OSError (I/O),
# cv2.error (decoder) or AssertionError ('failed to load image', when the decoder returns None);
# ValueError from our transforms when a file's content does not fit (e.g. reference size).
_LOAD_ERRORS = (OSError, AssertionError, ValueError, cv2.error)


@DATASETS.register_module()
class UnpairedImageDataset(BaseDataset):
    """All images under a folder (recursively), without annotations.

    Each data info is ``dict(img_path=...)``. Non-image files are skipped with one warning that
    names them; images whose header PIL cannot parse are skipped with one warning naming their
    paths (checked when the dataset is built). A file that still fails to load during training is
    reported by path, once, and replaced by another random sample (mmengine's refetch); in
    ``test_mode`` the error is raised with the path.

    Args:
        data_root (str): Folder of the images (joined with ``data_prefix['img_path']``).
        data_prefix (dict): ``dict(img_path=sub_folder)``. Defaults to ``dict(img_path='')``.
        extensions (Sequence[str]): Image file extensions (case-insensitive, with the dot).
        recursive (bool): Whether to include sub-folders. Defaults to True.
        verify_images (bool): Whether to check every image's header with PIL when the dataset
            is built. Defaults to True.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset` (``pipeline``,
            ``test_mode``, ``indices``, ``max_refetch``, ``lazy_init`` ...).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 recursive: bool = True,
                 verify_images: bool = True,
                 **kwargs) -> None:
        self.extensions = tuple(extensions)
        self.recursive = recursive
        self.verify_images = verify_images
        self._reported_failures: set = set()
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img_path='') if data_prefix is None else data_prefix,
            **kwargs)

    def _scan(self, folder: str) -> List[str]:
        return scan_image_folder(folder, self.extensions, self.recursive, self.verify_images)

    def load_data_list(self) -> List[dict]:
        """List the images; raises ValueError when the folder holds none."""
        folder = self.data_prefix['img_path']
        data_list = [dict(img_path=osp.join(folder, rel)) for rel in self._scan(folder)]
        if not data_list:
            raise ValueError(f'no readable images (extensions {", ".join(self.extensions)}) '
                             f'found in {folder!r}')
        return data_list

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline on sample ``idx``; see the class docstring for broken files."""
        try:
            return super().prepare_data(idx)
        except _LOAD_ERRORS as exc:
            path = self.get_data_info(idx).get('img_path', f'sample {idx}')
            if self.test_mode:
                raise RuntimeError(f'failed to load {path}: {exc}') from exc
            if path not in self._reported_failures:
                self._reported_failures.add(path)
                warnings.warn(f'skipping {path}: it failed to load ({type(exc).__name__}: '
                              f'{exc}); another sample is used instead')
            return None
