"""Night scenes for downstream measurements: objects on real photo crops, lamps, real darkness.

The shapes set (:mod:`.shapes_detection`) puts objects on synthetic textures and darkens every
image by a similar factor. A night capture differs in three ways, and this generator has all
three, so that a benchmark can tell a good enhancer from a plain gain:

- **real image statistics**: backgrounds are crops of the photographs that ship with
  scikit-image (``skimage.data``: astronaut, cat, coffee, rocket, and grey textures of brick,
  grass, gravel, coins, a camera man, tinted), rescaled, flipped and lit unevenly;
- **light sources**: lamps with a core far brighter than the scene's white and a glow that lights
  their surroundings; after the exposure cut they still clip, so no single gain fits the image
  (a gain that lifts the dark parts burns the glow, one that keeps the glow leaves the rest
  dark);
- **darkness spread like LOL's**: each dark copy's exposure is chosen for a mean 8-bit level drawn
  log-uniformly from ``level_range`` (default 5-40; LOL's low images lie there), with the
  physical capture model of :class:`LowLightSimulator` (shot and read noise, 8-bit encoding).

The scene is rendered in linear light. The normal-light image is its encoding by the camera of
:class:`LowLightSimulator` (its transfer function; lamps clip to white); the dark one is a
simulated underexposed capture of the same scene by the same camera. Objects are
circles, squares and triangles (:data:`SHAPE_CLASSES`): the class is the shape, never the colour.
Each image comes with COCO boxes and a semantic mask (0 background, ``1 + class`` objects).
"""
import os
import os.path as osp
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..converters.coco_format import CocoJsonBuilder, write_json_atomic
from .low_light_noise import LowLightSimulator
from .shapes_detection import SHAPE_CLASSES, placed_shapes

__all__ = ['NightScene', 'photo_backgrounds', 'render_night_scene', 'captured_night_scenes',
           'generate_night_scenes_dataset', 'SEGMENTATION_CLASSES']

#: Classes of the semantic masks (index = mask value).
SEGMENTATION_CLASSES = ('background', ) + SHAPE_CLASSES
#: scikit-image samples used as backgrounds: (name, is a colour photo). All ship inside the
#: scikit-image wheel (no download).
_PHOTOS = (('astronaut', True), ('chelsea', True), ('coffee', True), ('rocket', True),
           ('camera', False), ('brick', False), ('grass', False), ('gravel', False),
           ('coins', False))
_GAMMA = 2.2


@dataclass
class NightScene:
    """One rendered scene.

    Attributes:
        linear (np.ndarray): (H, W, 3) float32 RGB in linear light, >= 0; 1 is the normal
            exposure's white (lamp cores go far above).
        boxes (list): ``(x, y, w, h)`` of each object.
        labels (list[int]): Indices into :data:`SHAPE_CLASSES`.
        mask (np.ndarray): (H, W) uint8, 0 background, ``1 + label`` on objects.
    """
    linear: np.ndarray
    boxes: List[Tuple[float, float, float, float]]
    labels: List[int]
    mask: np.ndarray

    def normal_light(self, simulator: Optional[LowLightSimulator] = None) -> np.ndarray:
        """The well-exposed 8-bit RGB image (lamps clipped to white), encoded with the
        transfer function of ``simulator`` (default: :class:`LowLightSimulator`'s power law),
        the camera that also takes the dark copy."""
        return (simulator or LowLightSimulator()).encode_uint8(self.linear)


@lru_cache(maxsize=1)
def photo_backgrounds() -> Tuple[np.ndarray, ...]:
    """The scikit-image sample photographs as (H, W, 3) uint8 RGB (grey ones replicated)."""
    from skimage import data  # a dependency of the package; imported on use (slow import)
    photos = []
    for name, colour in _PHOTOS:
        image = getattr(data, name)()
        if not colour:
            image = np.repeat(image[..., None], 3, axis=2)
        photos.append(np.ascontiguousarray(image[..., :3]).astype(np.uint8))
    return tuple(photos)


def _background(rng: np.random.Generator, photos: Sequence[np.ndarray], height: int,
                width: int) -> np.ndarray:
    """A random crop of a random photo, in linear light, tinted and lit unevenly."""
    photo = photos[int(rng.integers(len(photos)))]
    scale = rng.uniform(0.6, 1.6)
    crop_h = min(photo.shape[0], max(8, int(round(height * scale))))
    crop_w = min(photo.shape[1], max(8, int(round(width * scale))))
    y0 = int(rng.integers(0, photo.shape[0] - crop_h + 1))
    x0 = int(rng.integers(0, photo.shape[1] - crop_w + 1))
    crop = cv2.resize(photo[y0:y0 + crop_h, x0:x0 + crop_w], (width, height),
                      interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    linear = (crop.astype(np.float32) / 255)**_GAMMA
    tint = rng.uniform(0.75, 1.0, size=3).astype(np.float32)
    # Uneven ambient light: a smooth field between ~0.45 and 1.
    field = cv2.resize(rng.uniform(0.45, 1.0, size=(3, 3)).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_CUBIC)
    return linear * tint * np.clip(field, 0.3, 1.0)[..., None]


def _add_lamp(rng: np.random.Generator, linear: np.ndarray,
              avoid: Sequence[Tuple[float, float, float, float]]) -> None:
    """Add one lamp in place: a small core far above white and a glow lighting its
    surroundings; the core is kept off the objects' boxes."""
    height, width = linear.shape[:2]
    for _attempt in range(20):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        if not any(x - 4 <= cx <= x + w + 4 and y - 4 <= cy <= y + h + 4
                   for x, y, w, h in avoid):
            break
    colour = np.array([(1.0, 0.85, 0.6), (1.0, 1.0, 1.0), (1.0, 0.25, 0.15),
                       (0.7, 0.85, 1.0)][int(rng.integers(4))], np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    dist2 = (xx - cx)**2 + (yy - cy)**2
    core_radius = rng.uniform(1.5, 4.5)
    core = rng.uniform(10, 60) * (dist2 <= core_radius**2)
    sigma = rng.uniform(4, 14)
    glow = rng.uniform(0.3, 2.0) * np.exp(-dist2 / (2 * sigma**2))
    linear += (core + glow)[..., None] * colour


def render_night_scene(rng: np.random.Generator,
                       photos: Sequence[np.ndarray],
                       image_size: Tuple[int, int] = (128, 128),
                       num_objects: Tuple[int, int] = (1, 4),
                       size_range: Tuple[int, int] = (16, 48),
                       num_lamps: Tuple[int, int] = (0, 3),
                       max_overlap: float = 0.1) -> NightScene:
    """Render one scene in linear light.

    Args:
        rng (np.random.Generator): Source of all randomness.
        photos (Sequence[np.ndarray]): Background photos (H, W, 3) uint8 RGB, e.g.
            :func:`photo_backgrounds`.
        image_size (tuple[int, int]): ``(height, width)``.
        num_objects (tuple[int, int]): Inclusive range of the number of objects.
        size_range (tuple[int, int]): Inclusive range of the shapes' side / diameter (pixels).
        num_lamps (tuple[int, int]): Inclusive range of the number of lamps.
        max_overlap (float): Largest IoU allowed between two objects' boxes.

    Returns:
        NightScene: The scene, its boxes, labels and mask.
    """
    height, width = image_size
    objects = placed_shapes(rng, image_size, num_objects, size_range, max_overlap)
    linear = _background(rng, photos, height, width)
    mask = np.zeros((height, width), np.uint8)
    boxes: List[Tuple[float, float, float, float]] = []
    labels: List[int] = []
    for label, shape, box in objects:
        # A painted object: a colour of random hue and moderate saturation, with some of a
        # photo's texture and a brightness gradient across it.
        hsv = np.uint8([[[rng.integers(0, 180), rng.integers(90, 256), rng.integers(140, 256)]]])
        colour = (cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0] / 255.0)**_GAMMA
        texture = _background(rng, photos, height, width)
        texture = texture / max(float(texture.mean()), 1e-3)
        shade = np.linspace(1.0, rng.uniform(0.6, 1.0), width, dtype=np.float32)[None, :, None]
        paint = colour.astype(np.float32) * shade * (0.7 + 0.3 * np.clip(texture, 0, 2))
        linear = np.where(shape[..., None] > 0, paint, linear)
        mask[shape > 0] = label + 1
        boxes.append(box)
        labels.append(label)
    for _ in range(int(rng.integers(num_lamps[0], num_lamps[1] + 1))):
        _add_lamp(rng, linear, boxes)
    return NightScene(linear.astype(np.float32), boxes, labels, mask)


def _checked_level_range(level_range: Tuple[float, float]) -> Tuple[float, float]:
    low, high = level_range
    if not 0 < low <= high < 255:
        raise ValueError(f'level_range must satisfy 0 < low <= high < 255, got {level_range}')
    return low, high


def captured_night_scenes(count: int,
                          seed: int = 0,
                          split_index: int = 0,
                          image_size: Tuple[int, int] = (128, 128),
                          level_range: Tuple[float, float] = (5.0, 40.0),
                          simulator: LowLightSimulator = LowLightSimulator(),
                          **render_kwargs) -> Iterator[Tuple[NightScene, np.ndarray]]:
    """Render ``count`` scenes and capture each dark, in memory: the scenes and captures that
    :func:`generate_night_scenes_dataset` writes for its split at ``split_index`` (its splits in
    sorted order).

    Args:
        count (int): Scenes.
        seed (int): Seed; the same seed and split give the same scenes and captures.
        split_index (int): Which split's random streams.
        image_size (tuple[int, int]): ``(height, width)``.
        level_range (tuple[float, float]): Range of the dark copies' mean 8-bit level, drawn
            log-uniformly per image; ``0 < low <= high < 255``.
        simulator (LowLightSimulator): The camera of the dark copies.
        **render_kwargs: Further arguments of :func:`render_night_scene`.

    Yields:
        tuple[NightScene, np.ndarray]: The scene and its dark capture (H, W, 3) uint8 RGB.
    """
    low, high = _checked_level_range(level_range)
    photos = photo_backgrounds()
    rng = np.random.default_rng([seed, split_index])
    for index in range(count):
        scene = render_night_scene(rng, photos, image_size, **render_kwargs)
        noise_rng = np.random.default_rng([seed, 1000 + split_index, index])
        level = float(np.exp(noise_rng.uniform(np.log(low), np.log(high))))
        exposure = simulator.exposure_for_level(scene.linear, level)
        yield scene, simulator.capture_linear(scene.linear, noise_rng, exposure)


def generate_night_scenes_dataset(out_dir: str,
                                  num_images: Dict[str, int],
                                  seed: int = 0,
                                  image_size: Tuple[int, int] = (128, 128),
                                  level_range: Tuple[float, float] = (5.0, 40.0),
                                  simulator: LowLightSimulator = LowLightSimulator(),
                                  **render_kwargs) -> Dict[str, str]:
    """Write a normal-light and a dark copy of each scene, with boxes and masks.

    Files: ``images/<split>/<n>.png`` (normal light), ``dark/<split>/<n>.png`` (the simulated
    capture), ``masks/<split>/<n>.png`` (semantic labels, :data:`SEGMENTATION_CLASSES`) and
    ``annotations/<split>.json`` (COCO boxes, :data:`SHAPE_CLASSES`).

    Args:
        out_dir (str): Output folder.
        num_images (dict[str, int]): Split name -> number of images.
        seed (int): Seed; the same seed writes the same files.
        image_size (tuple[int, int]): ``(height, width)``.
        level_range (tuple[float, float]): Range of the dark copies' mean 8-bit level, drawn
            log-uniformly per image.
        simulator (LowLightSimulator): The camera: the capture model of the dark copies
            (noise, transfer function) and the encoding of the normal-light images.
        **render_kwargs: Further arguments of :func:`render_night_scene`.

    Returns:
        dict[str, str]: Split -> annotation json path.
    """
    _checked_level_range(level_range)  # before any folder is made
    written = {}
    for split_index, (split, count) in enumerate(sorted(num_images.items())):
        dirs = {kind: osp.join(out_dir, kind, split) for kind in ('images', 'dark', 'masks')}
        for folder in dirs.values():
            os.makedirs(folder, exist_ok=True)
        builder = CocoJsonBuilder(SHAPE_CLASSES)
        for index, (scene, dark) in enumerate(captured_night_scenes(
                count, seed, split_index, image_size, level_range, simulator,
                **render_kwargs)):
            name = f'{index:05d}.png'
            for kind, image in (('images', scene.normal_light(simulator)), ('dark', dark)):
                _write(osp.join(dirs[kind], name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            _write(osp.join(dirs['masks'], name), scene.mask)
            image_id = builder.add_image(name, image_size[1], image_size[0])
            for box, label in zip(scene.boxes, scene.labels):
                builder.add_box(image_id, label, box)
        path = osp.join(out_dir, 'annotations', f'{split}.json')
        write_json_atomic(builder.to_dict(), path)
        written[split] = path
    return written


def _write(path: str, image: np.ndarray) -> None:
    if not cv2.imwrite(path, image):
        raise OSError(f'could not write {path}')
