"""Writing tiny image folders for the dataset and tool tests."""
import os
import os.path as osp
from typing import Sequence

import cv2
import numpy as np


def write_image(path: str, height: int = 8, width: int = 10, value: int = 40,
                seed: int = 0) -> np.ndarray:
    """Write a random dark BGR uint8 image (values around ``value``) and return it."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 2 * value, size=(height, width, 3), dtype=np.uint8)
    assert cv2.imwrite(path, img), path
    return img


def write_folder(root: str, names: Sequence[str], height: int = 8, width: int = 10) -> None:
    for i, name in enumerate(names):
        write_image(osp.join(root, name), height, width, seed=i)
