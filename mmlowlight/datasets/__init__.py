"""Datasets of mmlowlight (registered in ``mmlowlight.registry.DATASETS``).

Nothing here imports mmdet or mmseg at import time: ``ACDCNightDataset`` is registered through a
builder that imports its mmseg class lazily, and the converters are pure Python.
"""
from .acdc import build_acdc_night_dataset
from .image_folder import IMG_EXTENSIONS, scan_image_folder
from .paired_image_dataset import PairedImageDataset
from .transforms import *  # noqa: F401,F403
from .unpaired_image_dataset import UnpairedImageDataset

__all__ = [
    'build_acdc_night_dataset', 'IMG_EXTENSIONS', 'scan_image_folder', 'PairedImageDataset',
    'UnpairedImageDataset'
]
