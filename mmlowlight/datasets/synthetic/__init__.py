"""Synthetic data for measurements without downloadable datasets (numpy/OpenCV only)."""
from .low_light_noise import LowLightSimulator
from .night_scenes import (SEGMENTATION_CLASSES, NightScene, captured_night_scenes,
                           generate_night_scenes_dataset, photo_backgrounds, render_night_scene)
from .shapes_detection import SHAPE_CLASSES, generate_shapes_dataset, render_shapes_image

__all__ = [
    'LowLightSimulator', 'SHAPE_CLASSES', 'generate_shapes_dataset', 'render_shapes_image',
    'SEGMENTATION_CLASSES', 'NightScene', 'generate_night_scenes_dataset', 'photo_backgrounds',
    'render_night_scene', 'captured_night_scenes'
]
