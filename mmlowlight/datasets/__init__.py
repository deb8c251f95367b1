"""Datasets of mmlowlight (registered in ``mmlowlight.registry.DATASETS``).

Nothing here imports mmdet or mmseg at import time: ``ACDCNightDataset`` is registered through a
builder that imports its mmseg class lazily, and the converters are pure Python.
"""
from .acdc import build_acdc_night_dataset

__all__ = ['build_acdc_night_dataset']
