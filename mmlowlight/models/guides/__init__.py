"""Frozen segmentation nets that guide zero-shot training (see SemanticGuidanceLoss)."""
from .fpn_guide import TORCHVISION_RESNET50_URL, FPNSegmentationGuide, FPNTopDown
from .mmseg_guide import MMSegGuide

__all__ = ['FPNSegmentationGuide', 'FPNTopDown', 'MMSegGuide', 'TORCHVISION_RESNET50_URL']
