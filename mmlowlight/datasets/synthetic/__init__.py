"""Synthetic data for measurements without downloadable datasets (numpy/OpenCV only)."""
from .low_light_noise import LowLightSimulator
from .shapes_detection import SHAPE_CLASSES, generate_shapes_dataset, render_shapes_image

__all__ = ['LowLightSimulator', 'SHAPE_CLASSES', 'generate_shapes_dataset', 'render_shapes_image']
