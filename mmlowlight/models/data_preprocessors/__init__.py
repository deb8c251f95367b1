"""Data preprocessors. The mmdet/mmseg adapters are registered through lazy builders
(see :mod:`.builders`); import their classes from their own modules."""
from .builders import build_low_light_det_data_preprocessor, build_low_light_seg_data_preprocessor
from .enhance_data_preprocessor import EnhanceDataPreprocessor
from .low_light_mixin import LowLightPreprocessorMixin

__all__ = [
    'EnhanceDataPreprocessor', 'LowLightPreprocessorMixin', 'build_low_light_det_data_preprocessor',
    'build_low_light_seg_data_preprocessor'
]
