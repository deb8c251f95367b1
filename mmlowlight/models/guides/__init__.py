"""Frozen segmentation nets that guide zero-shot training (see SemanticGuidanceLoss)."""
from .fpn_guide import TORCHVISION_RESNET50_URL, FPNSegmentationGuide, FPNTopDown
from .mmdet_guide import MMDetGuide
from .mmseg_guide import MMSegGuide
from .mobilenet_v1 import MOBILENETV1_X025_IMAGENET, MobileNetV1, MobileNetV1DenseClassifier
from .openmmlab_guide import OpenMMLabGuide

__all__ = [
    'FPNSegmentationGuide', 'FPNTopDown', 'MMSegGuide', 'MMDetGuide', 'OpenMMLabGuide',
    'MobileNetV1',
    'MobileNetV1DenseClassifier', 'MOBILENETV1_X025_IMAGENET', 'TORCHVISION_RESNET50_URL'
]
