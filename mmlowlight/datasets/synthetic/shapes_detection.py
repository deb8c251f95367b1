"""A small synthetic detection set: coloured shapes on textured backgrounds, in COCO format.

Made for measurements where no real dataset can be downloaded (``tools/analysis/
dark_detection_benchmark.py``): the class is the shape (circle, square, triangle), never the
colour, and backgrounds carry smooth blotches, stripes and grain, so a detector must use edges and
geometry, the cues darkness and sensor noise destroy.
"""
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..converters.coco_format import CocoJsonBuilder, write_json_atomic

__all__ = [
    'SHAPE_CLASSES', 'place_shape', 'placed_shapes', 'render_shapes_image',
    'generate_shapes_dataset'
]

SHAPE_CLASSES = ('circle', 'square', 'triangle')
Box = Tuple[float, float, float, float]


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Textured RGB float background in about [0.25, 0.85]."""
    base = rng.uniform(0.35, 0.7, size=3)
    blotches = cv2.resize(rng.uniform(-0.15, 0.15, size=(4, 4, 3)), (width, height),
                          interpolation=cv2.INTER_CUBIC)
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 20)
    yy, xx = np.mgrid[0:height, 0:width]
    stripes = 0.06 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    grain = rng.normal(0, 0.02, size=(height, width, 3))
    return np.clip(base + blotches + stripes[..., None] + grain, 0.05, 0.95)


def _shape_mask(rng: np.random.Generator, label: int, height: int, width: int,
                size_range: Tuple[int, int]) -> np.ndarray:
    """Binary mask of one shape of class ``label`` at a random place, fully inside the image."""
    size = int(rng.integers(size_range[0], size_range[1] + 1))
    x0 = int(rng.integers(0, width - size + 1))
    y0 = int(rng.integers(0, height - size + 1))
    mask = np.zeros((height, width), np.uint8)
    if SHAPE_CLASSES[label] == 'circle':
        cv2.circle(mask, (x0 + size // 2, y0 + size // 2), size // 2, 1, thickness=-1)
    elif SHAPE_CLASSES[label] == 'square':
        cv2.rectangle(mask, (x0, y0), (x0 + size - 1, y0 + size - 1), 1, thickness=-1)
    else:
        # Apex somewhere along the top edge; base on the bottom edge.
        apex = x0 + int(rng.integers(size // 4, 3 * size // 4 + 1))
        points = np.array([[apex, y0], [x0, y0 + size - 1], [x0 + size - 1, y0 + size - 1]])
        cv2.fillPoly(mask, [points.astype(np.int32)], 1)
    return mask


def _iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def place_shape(rng: np.random.Generator, boxes: Sequence[Box], height: int, width: int,
                size_range: Tuple[int, int], max_overlap: float
                ) -> Optional[Tuple[int, np.ndarray, Box]]:
    """A shape of a random class that overlaps ``boxes`` by at most ``max_overlap`` IoU.

    Returns:
        tuple | None: ``(label, mask, box)``, or None when 20 attempts found no free place.
    """
    for _attempt in range(20):
        label = int(rng.integers(len(SHAPE_CLASSES)))
        mask = _shape_mask(rng, label, height, width, size_range)
        ys, xs = np.nonzero(mask)
        box = (float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1),
               float(ys.max() - ys.min() + 1))
        if all(_iou(box, other) <= max_overlap for other in boxes):
            return label, mask, box
    return None


def placed_shapes(rng: np.random.Generator, image_size: Tuple[int, int],
                  num_objects: Tuple[int, int], size_range: Tuple[int, int],
                  max_overlap: float) -> Iterator[Tuple[int, np.ndarray, Box]]:
    """The objects of one image: a count drawn from ``num_objects``, each placed by
    :func:`place_shape` clear of those before it (a place that is not found is skipped).

    ``size_range`` is checked at once; the draws from ``rng`` happen as the objects are taken,
    so a caller may draw from ``rng`` for each object (its colour) in between.

    Args:
        rng (np.random.Generator): Source of all randomness.
        image_size (tuple[int, int]): ``(height, width)``.
        num_objects (tuple[int, int]): Inclusive range of the number of objects.
        size_range (tuple[int, int]): Inclusive range of the shapes' side / diameter (pixels).
        max_overlap (float): Largest IoU allowed between two objects' boxes.

    Returns:
        Iterator[tuple]: ``(label, mask, box)`` per object, as :func:`place_shape`.
    """
    height, width = image_size
    if size_range[1] > min(height, width):
        raise ValueError(f'size_range {size_range} does not fit in a {width}x{height} image')

    def placements() -> Iterator[Tuple[int, np.ndarray, Box]]:
        boxes: List[Box] = []
        for _ in range(int(rng.integers(num_objects[0], num_objects[1] + 1))):
            placed = place_shape(rng, boxes, height, width, size_range, max_overlap)
            if placed is not None:
                boxes.append(placed[2])
                yield placed

    return placements()


def render_shapes_image(
        rng: np.random.Generator,
        image_size: Tuple[int, int] = (128, 128),
        num_objects: Tuple[int, int] = (1, 4),
        size_range: Tuple[int, int] = (16, 48),
        max_overlap: float = 0.1) -> Tuple[np.ndarray, List[Box], List[int]]:
    """Draw one image.

    Args:
        rng (np.random.Generator): Source of all randomness.
        image_size (tuple[int, int]): ``(height, width)``.
        num_objects (tuple[int, int]): Inclusive range of the number of objects.
        size_range (tuple[int, int]): Inclusive range of the shapes' side / diameter (pixels).
        max_overlap (float): Largest IoU allowed between two objects' boxes.

    Returns:
        tuple: RGB uint8 image (H, W, 3); boxes ``(x, y, w, h)`` tight around each shape's
        pixels; labels (indices into :data:`SHAPE_CLASSES`).
    """
    height, width = image_size
    objects = placed_shapes(rng, image_size, num_objects, size_range, max_overlap)
    image = _background(rng, height, width)
    boxes: List[Box] = []
    labels: List[int] = []
    for label, mask, box in objects:
        # Saturated colour of random hue, with a brightness gradient across the object.
        hsv = np.uint8([[[rng.integers(0, 180), rng.integers(150, 256), rng.integers(150, 256)]]])
        colour = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0] / 255.0
        shade = np.linspace(1.0, rng.uniform(0.7, 1.0), width)[None, :, None]
        image = np.where(mask[..., None] > 0, colour * shade, image)
        boxes.append(box)
        labels.append(label)
    return np.round(image * 255).astype(np.uint8), boxes, labels


def generate_shapes_dataset(out_dir: str,
                            num_images: Dict[str, int],
                            seed: int = 0,
                            image_size: Tuple[int, int] = (128, 128),
                            **render_kwargs) -> Dict[str, str]:
    """Write ``images/<split>/<n>.png`` and ``annotations/<split>.json`` (COCO) for each split.

    Args:
        out_dir (str): Output folder.
        num_images (dict[str, int]): Split name -> number of images, e.g.
            ``{'train': 600, 'val': 150}``.
        seed (int): Seed; the same seed writes the same files.
        image_size (tuple[int, int]): ``(height, width)``.
        **render_kwargs: Further arguments of :func:`render_shapes_image`.

    Returns:
        dict[str, str]: Split -> annotation json path (``file_name`` relative to
        ``images/<split>/``).
    """
    written = {}
    for split_index, (split, count) in enumerate(sorted(num_images.items())):
        rng = np.random.default_rng([seed, split_index])
        img_dir = osp.join(out_dir, 'images', split)
        os.makedirs(img_dir, exist_ok=True)
        builder = CocoJsonBuilder(SHAPE_CLASSES)
        for index in range(count):
            image, boxes, labels = render_shapes_image(rng, image_size, **render_kwargs)
            name = f'{index:05d}.png'
            if not cv2.imwrite(osp.join(img_dir, name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
                raise OSError(f'could not write {osp.join(img_dir, name)}')
            image_id = builder.add_image(name, image_size[1], image_size[0])
            for box, label in zip(boxes, labels):
                builder.add_box(image_id, label, box)
        path = osp.join(out_dir, 'annotations', f'{split}.json')
        write_json_atomic(builder.to_dict(), path)
        written[split] = path
    return written
