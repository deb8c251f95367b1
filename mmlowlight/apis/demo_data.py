"""Synthetic low-light photos from scikit-image's bundled sample images (for demos, benchmarks).

A plain brightness scale looks like a dimmed photo, not a dark one. Here the image goes to linear
light (sRGB gamma), is underexposed, gets photon shot noise (Poisson in the collected
electrons) and sensor read noise (Gaussian), and returns to sRGB: the grain and colour noise of
a phone photo at night. No library offers this camera model, hence the few lines below.
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np

from .image_io import DecodedImage, atomic_write_bytes, encode_image

__all__ = ['synthesize_low_light', 'demo_images', 'demo_inputs', 'write_demo_inputs']

_GAMMA = 2.2


def synthesize_low_light(rgb: np.ndarray, exposure: float = 0.03, full_well: float = 3000.0,
                         read_noise: float = 3.0, seed: Optional[int] = 0) -> np.ndarray:
    """Turn a well-exposed photo into a plausible dark, noisy one.

    Args:
        rgb (np.ndarray): H x W x 3 uint8 sRGB image.
        exposure (float): Fraction of the original light that reaches the sensor (0, 1].
        full_well (float): Electrons collected at full scale of the *original* exposure; lower
            values mean a smaller sensor and more shot noise.
        read_noise (float): Standard deviation of the read noise, in electrons.
        seed (int, optional): Seed of the noise.

    Returns:
        np.ndarray: H x W x 3 uint8 sRGB dark image.
    """
    if not 0 < exposure <= 1:
        raise ValueError(f'exposure must be in (0, 1], got {exposure}')
    rng = np.random.default_rng(seed)
    linear = (rgb.astype(np.float64) / 255) ** _GAMMA * exposure
    electrons = rng.poisson(linear * full_well) + rng.normal(0, read_noise, linear.shape)
    dark = np.clip(electrons / full_well, 0, 1) ** (1 / _GAMMA)
    return np.round(dark * 255).astype(np.uint8)


def demo_images() -> Dict[str, np.ndarray]:
    """Well-exposed RGB samples shipped inside scikit-image (no download)."""
    from skimage import data
    return {'coffee': data.coffee(), 'astronaut': data.astronaut(), 'chelsea': data.chelsea()}


def demo_inputs(exposure: float = 0.03) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """``make demo``'s inputs: per name, the original photo and its dark copy.

    Args:
        exposure (float): See :func:`synthesize_low_light`.

    Returns:
        dict[str, tuple[np.ndarray, np.ndarray]]: ``{name: (original, dark)}``, uint8 RGB, the
        dark copies' noise seeded by the names' sorted order (the same files every time).
    """
    return {name: (rgb, synthesize_low_light(rgb, exposure=exposure, seed=seed))
            for seed, (name, rgb) in enumerate(sorted(demo_images().items()))}


def write_demo_inputs(out_dir: str, exposure: float = 0.03) -> List[str]:
    """Write darkened copies of :func:`demo_images` as JPEGs into ``out_dir``.

    Args:
        out_dir (str): Folder to write to (created).
        exposure (float): See :func:`synthesize_low_light`.

    Returns:
        list[str]: The written paths.
    """
    paths = []
    for name, (_, dark) in demo_inputs(exposure).items():
        path = osp.join(out_dir, f'dark_{name}.jpg')
        atomic_write_bytes(path, encode_image(DecodedImage(dark), '.jpg'))
        paths.append(path)
    return paths
