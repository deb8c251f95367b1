"""Building blocks shared by the dataset converters: a COCO json builder and atomic writing.

The converters are pure Python (no mmdet import) so they run wherever the dataset sits; the json
they write is read by mmdet's ``CocoDataset`` and ``CocoMetric`` (pycocotools).
"""
import os
import os.path as osp
import warnings
from typing import Dict, List, Sequence, Tuple

from PIL import Image, UnidentifiedImageError

from mmlowlight.utils import write_json_atomic

__all__ = [
    'CocoJsonBuilder', 'ConversionError', 'clip_box_xywh', 'index_files_by_name',
    'raise_or_warn', 'read_image_size', 'write_json_atomic', 'write_splits'
]


class ConversionError(ValueError):
    """Raised when annotation or image files cannot be converted; the message names each file."""


def read_image_size(path: str) -> Tuple[int, int]:
    """Width and height of an image as stored in the file.

    Only the header is read (PIL opens lazily). The size is the stored pixel grid, without EXIF
    rotation, which is the grid the datasets' boxes were drawn on.

    Args:
        path (str): Image file.

    Returns:
        tuple[int, int]: ``(width, height)`` in pixels.

    Raises:
        ConversionError: The file is missing or not a readable image.
    """
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, UnidentifiedImageError) as err:
        raise ConversionError(f'{path}: cannot read the image size ({err})') from err


class CocoJsonBuilder:
    """Accumulates images and boxes of one split into a COCO detection dict.

    Args:
        class_names (Sequence[str]): Category names; category ids are 1-based in this order.
    """

    def __init__(self, class_names: Sequence[str]) -> None:
        if not class_names:
            raise ValueError('class_names must not be empty')
        self.class_names = list(class_names)
        self.images: List[dict] = []
        self.annotations: List[dict] = []

    def add_image(self, file_name: str, width: int, height: int) -> int:
        """Add an image and return its id (1-based, in insertion order)."""
        image_id = len(self.images) + 1
        self.images.append(
            dict(id=image_id, file_name=file_name, width=int(width), height=int(height)))
        return image_id

    def add_box(self, image_id: int, label: int, box_xywh: Sequence[float]) -> None:
        """Add one box.

        Args:
            image_id (int): Id returned by :meth:`add_image`.
            label (int): 0-based index into ``class_names``.
            box_xywh (Sequence[float]): ``(x, y, w, h)`` in pixels, top-left origin.
        """
        x, y, w, h = (float(v) for v in box_xywh)
        self.annotations.append(
            dict(id=len(self.annotations) + 1, image_id=image_id, category_id=label + 1,
                 bbox=[x, y, w, h], area=w * h, iscrowd=0))

    def to_dict(self) -> Dict[str, list]:
        """The COCO dict: ``images``, ``annotations`` and ``categories``."""
        categories = [dict(id=i + 1, name=name) for i, name in enumerate(self.class_names)]
        return dict(images=self.images, annotations=self.annotations, categories=categories)


def clip_box_xywh(box: Sequence[float], width: int,
                  height: int) -> Tuple[float, float, float, float]:
    """Clip an ``(x, y, w, h)`` box to the image; the result may have zero width or height."""
    x1 = min(max(float(box[0]), 0.0), width)
    y1 = min(max(float(box[1]), 0.0), height)
    x2 = min(max(float(box[0]) + float(box[2]), 0.0), width)
    y2 = min(max(float(box[1]) + float(box[3]), 0.0), height)
    return x1, y1, max(x2 - x1, 0.0), max(y2 - y1, 0.0)


def index_files_by_name(root: str, suffixes: Sequence[str]) -> Dict[str, List[str]]:
    """Map the lower-cased file name of every file under ``root`` to its path(s).

    Dataset archives mix ``.jpg``/``.JPG``/``.jpeg`` and annotation names whose case differs from
    the image's, so lookups are case-insensitive; a name found twice maps to both paths so the
    caller can report the ambiguity.

    Args:
        root (str): Folder searched recursively (symbolic links followed).
        suffixes (Sequence[str]): Lower-case suffixes to keep, e.g. ``('.txt',)``.

    Returns:
        dict[str, list[str]]: Lower-cased base name -> sorted paths.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'{root} is not a folder')
    index: Dict[str, List[str]] = {}
    for folder, _, files in os.walk(root, followlinks=True):
        for name in files:
            if name.lower().endswith(tuple(suffixes)):
                index.setdefault(name.lower(), []).append(osp.join(folder, name))
    for paths in index.values():
        paths.sort()
    return index


def write_splits(builders: Dict[str, CocoJsonBuilder], out_dir: str,
                 out_prefix: str) -> Dict[str, str]:
    """Write each split's COCO dict to ``<out_dir>/<out_prefix>_<split>.json`` (atomically).

    Returns:
        dict[str, str]: Split -> written path.
    """
    written = {}
    for split, builder in builders.items():
        path = osp.join(out_dir, f'{out_prefix}_{split}.json')
        write_json_atomic(builder.to_dict(), path)
        written[split] = path
    return written


def raise_or_warn(problems: List[str], skip_invalid: bool, what: str, max_listed: int = 50) -> None:
    """Report bad input files, each by path.

    Args:
        problems (list[str]): One ``'<path>: <problem>'`` line per bad file.
        skip_invalid (bool): Warn and continue (the caller skips those images) instead of raising.
        what (str): What was being converted, for the message.
        max_listed (int): At most this many lines are listed in the message.

    Raises:
        ConversionError: ``problems`` is not empty and ``skip_invalid`` is False.
    """
    if not problems:
        return
    listed = '\n  '.join(problems[:max_listed])
    more = f'\n  ... and {len(problems) - max_listed} more' if len(problems) > max_listed else ''
    message = f'{len(problems)} problem(s) while converting {what}:\n  {listed}{more}'
    if not skip_invalid:
        raise ConversionError(message + '\n(pass skip_invalid=True / --skip-invalid to skip '
                              'the affected images)')
    warnings.warn(message + '\nThe affected images were skipped.', stacklevel=2)
