"""ExDark (Exclusively Dark) annotations -> COCO detection json, one file per split.

ExDark (Loh & Chan, "Getting to know low-light images with the Exclusively Dark dataset", CVIU
2019; https://github.com/cs-chan/Exclusively-Dark-Image-Dataset) ships:

- images in one folder per class: ``ExDark/<Class>/2015_00001.png`` (extensions of mixed case:
  ``.jpg``, ``.JPG``, ``.jpeg``, ``.JPEG``, ``.png``);
- one annotation per image in Piotr Dollar's ``bbGt`` text format:
  ``ExDark_Annno/<Class>/2015_00001.png.txt``, first line ``% bbGt version=3``, then one object
  per line: ``<Class> <left> <top> <width> <height> <occ> <ol> <ot> <ow> <oh> <ign> <ang>``;
- ``Groundtruth/imageclasslist.txt``: a header ``Name | Class | Light | In/Out | Train/Val/Test``
  then ``<image name> <class 1-12> <lighting 1-10> <indoor 1 / outdoor 2> <split>``, split
  ``1`` = training (3,000 images), ``2`` = validation (1,800), ``3`` = testing (2,563).
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .coco_format import (CocoJsonBuilder, ConversionError, clip_box_xywh, index_files_by_name,
                          raise_or_warn, read_image_size, write_splits)

__all__ = [
    'EXDARK_CLASSES', 'EXDARK_SPLITS', 'ExDarkImageEntry', 'parse_image_class_list',
    'parse_bbgt_file', 'convert_exdark'
]

EXDARK_CLASSES = ('Bicycle', 'Boat', 'Bottle', 'Bus', 'Car', 'Cat', 'Chair', 'Cup', 'Dog',
                  'Motorbike', 'People', 'Table')
# Split codes of the 5th column of imageclasslist.txt.
EXDARK_SPLITS = {1: 'train', 2: 'val', 3: 'test'}
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
BBGT_HEADER = '% bbGt version='


@dataclass(frozen=True)
class ExDarkImageEntry:
    """One row of ``imageclasslist.txt``.

    Args:
        name (str): Image file name, e.g. ``'2015_00001.png'``.
        class_index (int): 1-based image class (index into :data:`EXDARK_CLASSES` plus one).
        lighting (int): Lighting type code 1-10 (Low, Ambient, Object, Single, Weak, Strong,
            Screen, Window, Shadow, Twilight).
        indoor_outdoor (int): 1 indoor, 2 outdoor.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
    """
    name: str
    class_index: int
    lighting: int
    indoor_outdoor: int
    split: str


def parse_image_class_list(path: str) -> List[ExDarkImageEntry]:
    """Read the official ``imageclasslist.txt``.

    Args:
        path (str): The split file.

    Returns:
        list[ExDarkImageEntry]: One entry per image row, in file order.

    Raises:
        ConversionError: A row is malformed; the message names the file and line.
    """
    entries = []
    with open(path, encoding='utf-8-sig') as f:
        for line_no, line in enumerate(f, start=1):
            tokens = line.split()
            if not tokens or (line_no == 1 and tokens[0].lower() == 'name'):
                continue
            try:
                if len(tokens) != 5:
                    raise ValueError(f'expected 5 columns, found {len(tokens)}')
                class_index, lighting, in_out, split_code = (int(t) for t in tokens[1:])
                if not 1 <= class_index <= len(EXDARK_CLASSES):
                    raise ValueError(f'class {class_index} is not in 1..{len(EXDARK_CLASSES)}')
                if split_code not in EXDARK_SPLITS:
                    raise ValueError(f'split code {split_code} is not one of 1, 2, 3')
            except ValueError as err:
                raise ConversionError(f'{path}:{line_no}: {err} in {line.strip()!r}') from err
            entries.append(
                ExDarkImageEntry(tokens[0], class_index, lighting, in_out,
                                 EXDARK_SPLITS[split_code]))
    if not entries:
        raise ConversionError(f'{path}: no image rows found')
    return entries


def parse_bbgt_file(path: str) -> List[Tuple[int, Tuple[float, float, float, float]]]:
    """Read one ``bbGt`` annotation file.

    Args:
        path (str): The ``<image name>.txt`` file.

    Returns:
        list[tuple[int, tuple]]: ``(label, (left, top, width, height))`` per object, label a
        0-based index into :data:`EXDARK_CLASSES` (class names matched case-insensitively).

    Raises:
        ConversionError: Missing header, unknown class or malformed line (file and line named).
    """
    lower_names = {name.lower(): i for i, name in enumerate(EXDARK_CLASSES)}
    objects = []
    with open(path, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].strip().startswith(BBGT_HEADER):
        raise ConversionError(f'{path}: not a bbGt file (first line must start with '
                              f'{BBGT_HEADER!r})')
    for line_no, line in enumerate(lines[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        try:
            if len(tokens) < 5:
                raise ValueError('expected "<Class> <left> <top> <width> <height> ..."')
            label = lower_names.get(tokens[0].lower())
            if label is None:
                raise ValueError(f'unknown class {tokens[0]!r}')
            box = tuple(float(t) for t in tokens[1:5])
        except ValueError as err:
            raise ConversionError(f'{path}:{line_no}: {err} in {line.strip()!r}') from err
        objects.append((label, box))
    return objects


def _unique(index: Dict[str, List[str]], key: str) -> Optional[str]:
    paths = index.get(key.lower())
    if not paths:
        return None
    if len(paths) > 1:
        raise ConversionError(f'{key} is ambiguous: {paths}')
    return paths[0]


def convert_exdark(image_root: str,
                   ann_root: str,
                   split_file: str,
                   out_dir: str,
                   splits: Sequence[str] = ('train', 'val', 'test'),
                   skip_invalid: bool = False,
                   out_prefix: str = 'exdark') -> Dict[str, str]:
    """Write ``<out_prefix>_<split>.json`` COCO files for the requested ExDark splits.

    ``file_name`` in the json is the image path relative to ``image_root`` (``Bicycle/x.png``),
    so a config sets ``data_prefix=dict(img=<image_root>)``. Image sizes are read from the files.
    Boxes are clipped to the image; boxes that end up empty are reported.

    Args:
        image_root (str): The ``ExDark`` image folder (class sub-folders).
        ann_root (str): The ``ExDark_Annno`` folder (class sub-folders of ``.txt`` files).
        split_file (str): ``imageclasslist.txt``.
        out_dir (str): Output folder (created).
        splits (Sequence[str]): Subset of ``'train'``, ``'val'``, ``'test'``.
        skip_invalid (bool): Skip (with one warning listing them) images whose image or
            annotation is missing or malformed, instead of raising.
        out_prefix (str): File name prefix.

    Returns:
        dict[str, str]: Split -> written json path.

    Raises:
        ConversionError: Bad input files (all listed by path) unless ``skip_invalid``.
        ValueError: An unknown split name.
    """
    unknown = set(splits) - set(EXDARK_SPLITS.values())
    if unknown:
        raise ValueError(f'unknown ExDark split(s) {sorted(unknown)}; choose from '
                         f'{sorted(EXDARK_SPLITS.values())}')
    entries = parse_image_class_list(split_file)
    images = index_files_by_name(image_root, IMAGE_SUFFIXES)
    annotations = index_files_by_name(ann_root, ('.txt', ))

    builders = {split: CocoJsonBuilder(EXDARK_CLASSES) for split in splits}
    problems: List[str] = []
    for entry in entries:
        if entry.split not in builders:
            continue
        try:
            img_path = _unique(images, entry.name)
            if img_path is None:
                expected = osp.join(image_root, EXDARK_CLASSES[entry.class_index - 1],
                                    entry.name)
                raise ConversionError(f'{expected}: image listed in '
                                      f'{split_file} not found under {image_root}')
            ann_path = _unique(annotations, entry.name + '.txt')
            if ann_path is None:
                expected = osp.join(ann_root, EXDARK_CLASSES[entry.class_index - 1],
                                    entry.name + '.txt')
                raise ConversionError(f'{expected}: annotation file missing')
            objects = parse_bbgt_file(ann_path)
            width, height = read_image_size(img_path)
            boxes = []
            for label, box in objects:
                clipped = clip_box_xywh(box, width, height)
                if clipped[2] <= 0 or clipped[3] <= 0:
                    raise ConversionError(f'{ann_path}: box {box} of {EXDARK_CLASSES[label]} '
                                          f'lies outside the {width}x{height} image')
                boxes.append((label, clipped))
        except ConversionError as err:
            problems.append(str(err))
            continue
        builder = builders[entry.split]
        rel_path = osp.relpath(img_path, image_root).replace(osp.sep, '/')
        image_id = builder.add_image(rel_path, width, height)
        for label, box in boxes:
            builder.add_box(image_id, label, box)
    raise_or_warn(problems, skip_invalid, f'ExDark ({split_file})')
    return write_splits(builders, out_dir, out_prefix)
