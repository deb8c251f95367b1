"""DARK FACE annotations -> COCO detection json (class ``face``).

DARK FACE (Yang et al., "Advancing image understanding in poor visibility environments: a
collective benchmark study", TIP 2020; UG2+ challenge) ships 6,000 labelled night images
``image/<n>.png`` with one label file each, ``label/<n>.txt``: the first line is the number of
faces, then one ``xmin ymin xmax ymax`` line per face (pixels). There is no official
train/val split of the labelled set, so a seeded random one is made here (``val_ratio``).
"""
import os.path as osp
import random
import warnings
from typing import Dict, List, Tuple

from .coco_format import (CocoJsonBuilder, ConversionError, clip_box_xywh, index_files_by_name,
                          raise_or_warn, read_image_size, write_splits)

__all__ = ['DARKFACE_CLASSES', 'parse_darkface_label', 'convert_darkface']

DARKFACE_CLASSES = ('face', )
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


def parse_darkface_label(path: str) -> List[Tuple[float, float, float, float]]:
    """Read one DARK FACE label file.

    Args:
        path (str): The ``<n>.txt`` file.

    Returns:
        list[tuple]: ``(xmin, ymin, xmax, ymax)`` per face.

    Raises:
        ConversionError: Missing count, count not matching the number of box lines, a malformed
            line or a box with ``xmax < xmin``/``ymax < ymin`` (file and line named).
    """
    with open(path, encoding='utf-8-sig') as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if not lines:
        raise ConversionError(f'{path}: empty label file (expected the face count first)')
    try:
        count = int(lines[0].split()[0])
    except ValueError as err:
        raise ConversionError(f'{path}:1: expected the face count, found {lines[0]!r}') from err
    if count != len(lines) - 1:
        raise ConversionError(f'{path}: the first line says {count} face(s) but '
                              f'{len(lines) - 1} box line(s) follow')
    boxes = []
    for line_no, line in enumerate(lines[1:], start=2):
        try:
            values = [float(t) for t in line.split()]
            if len(values) != 4:
                raise ValueError(f'expected 4 numbers, found {len(values)}')
            x1, y1, x2, y2 = values
            if x2 < x1 or y2 < y1:
                raise ValueError('xmax < xmin or ymax < ymin')
        except ValueError as err:
            raise ConversionError(f'{path}:{line_no}: {err} in {line.strip()!r}') from err
        boxes.append((x1, y1, x2, y2))
    return boxes


def convert_darkface(image_dir: str,
                     label_dir: str,
                     out_dir: str,
                     val_ratio: float = 0.1,
                     seed: int = 0,
                     skip_invalid: bool = False,
                     out_prefix: str = 'darkface') -> Dict[str, str]:
    """Write ``<out_prefix>_train.json`` and (if ``val_ratio > 0``) ``<out_prefix>_val.json``.

    Every image in ``image_dir`` needs a label ``<stem>.txt`` in ``label_dir``. ``file_name`` is
    relative to ``image_dir``. Widths are ``xmax - xmin`` (continuous pixel coordinates).

    Args:
        image_dir (str): Folder of images (searched recursively).
        label_dir (str): Folder of label files.
        out_dir (str): Output folder (created).
        val_ratio (float): Fraction of images put in the val split, in [0, 1).
        seed (int): Seed of the split shuffle (the same seed gives the same split).
        skip_invalid (bool): Skip bad images/labels with a warning instead of raising.
        out_prefix (str): File name prefix.

    Returns:
        dict[str, str]: Split -> written json path.

    Raises:
        ConversionError: Missing or malformed labels, unreadable images (listed by path).
        ValueError: ``val_ratio`` out of range.
    """
    if not 0 <= val_ratio < 1:
        raise ValueError(f'val_ratio must be in [0, 1), got {val_ratio}')
    images = index_files_by_name(image_dir, IMAGE_SUFFIXES)
    labels = index_files_by_name(label_dir, ('.txt', ))
    if not images:
        raise ConversionError(f'{image_dir}: no images ({", ".join(IMAGE_SUFFIXES)}) found')

    samples = []
    problems: List[str] = []
    for key in sorted(images):
        try:
            if len(images[key]) > 1:
                raise ConversionError(f'{key} is ambiguous: {images[key]}')
            img_path = images[key][0]
            label_key = osp.splitext(key)[0] + '.txt'
            label_paths = labels.get(label_key)
            if not label_paths:
                raise ConversionError(f'{osp.join(label_dir, label_key)}: label file missing '
                                      f'for {img_path}')
            boxes = parse_darkface_label(label_paths[0])
            width, height = read_image_size(img_path)
        except ConversionError as err:
            problems.append(str(err))
            continue
        samples.append((img_path, width, height, boxes))
    raise_or_warn(problems, skip_invalid, f'DARK FACE ({label_dir})')

    order = list(range(len(samples)))
    random.Random(seed).shuffle(order)
    num_val = int(round(len(samples) * val_ratio))
    val_indices = set(order[:num_val])
    builders = {'train': CocoJsonBuilder(DARKFACE_CLASSES)}
    if num_val:
        builders['val'] = CocoJsonBuilder(DARKFACE_CLASSES)
    degenerate = []
    for index, (img_path, width, height, boxes) in enumerate(samples):
        builder = builders['val' if index in val_indices else 'train']
        rel_path = osp.relpath(img_path, image_dir).replace(osp.sep, '/')
        image_id = builder.add_image(rel_path, width, height)
        for x1, y1, x2, y2 in boxes:
            box = clip_box_xywh((x1, y1, x2 - x1, y2 - y1), width, height)
            if box[2] > 0 and box[3] > 0:
                builder.add_box(image_id, 0, box)
            else:
                degenerate.append(f'{img_path}: box {(x1, y1, x2, y2)}')
    if degenerate:
        # Zero-area boxes cannot be matched by IoU; drop them but say which.
        warnings.warn(f'{len(degenerate)} zero-area box(es) after clipping were dropped: '
                      + '; '.join(degenerate[:20]))
    return write_splits(builders, out_dir, out_prefix)
