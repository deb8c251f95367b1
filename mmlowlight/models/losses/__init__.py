"""Losses of zero-shot enhancement training; all share ``loss(enhanced, original, factor)``."""
from .base import BaseEnhanceLoss
from .exposure_range import ExposureRangeLoss
from .semantic import FrozenGuideLoss, SemanticGuidanceLoss, softmax_focal_loss
from .task_guidance import OutputAnchorLoss, PseudoLabelGuidanceLoss
from .zero_reference import (ColorConstancyLoss, ExposureLoss, IlluminationSmoothnessLoss,
                             SpatialConsistencyLoss, sqrt_zero_safe)

__all__ = [
    'BaseEnhanceLoss', 'SpatialConsistencyLoss', 'ColorConstancyLoss', 'ExposureLoss',
    'ExposureRangeLoss',
    'IlluminationSmoothnessLoss', 'SemanticGuidanceLoss', 'softmax_focal_loss',
    'FrozenGuideLoss', 'PseudoLabelGuidanceLoss', 'OutputAnchorLoss',
    'sqrt_zero_safe'
]
