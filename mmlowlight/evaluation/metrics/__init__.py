from .model_confidence import ModelConfidence
from .no_reference_statistics import NoReferenceStatistics
from .reference_metrics import PSNR, SSIM

__all__ = ['ModelConfidence', 'NoReferenceStatistics', 'PSNR', 'SSIM']
