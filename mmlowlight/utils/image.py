"""Converting model output tensors to 8-bit images (metrics, visualisation)."""
import numpy as np
import torch
from torch import Tensor

__all__ = ['tensor_to_uint8_image']


def tensor_to_uint8_image(img: Tensor) -> np.ndarray:
    """Turn a (C, H, W) image tensor into an H x W x C uint8 array, keeping the channel order.

    Float tensors are read as values in [0, 1] and saved the way an image file would be,
    ``round(clamp(x, 0, 1) * 255)``; uint8 tensors are only transposed.

    Args:
        img (Tensor): (C, H, W), float in [0, 1] or uint8.

    Returns:
        np.ndarray: (H, W, C) uint8.
    """
    if img.dim() != 3:
        raise ValueError(f'expected a (C, H, W) image tensor, got shape {tuple(img.shape)}')
    img = img.detach().cpu()
    if img.dtype != torch.uint8:
        if not img.is_floating_point():
            raise TypeError(f'expected a float or uint8 image tensor, got {img.dtype}')
        img = img.float().clamp(0, 1).mul(255).round().to(torch.uint8)
    return np.ascontiguousarray(img.permute(1, 2, 0).numpy())
