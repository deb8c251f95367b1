from .no_reference_statistics import NoReferenceStatistics
from .reference_metrics import PSNR, SSIM

__all__ = ['NoReferenceStatistics', 'PSNR', 'SSIM']
