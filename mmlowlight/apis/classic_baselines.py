"""The enhancements a user tries first, as baselines for every comparison we publish.

Each is a few lines on top of OpenCV/NumPy; they live here so that the downstream benchmark
and ``tools/analysis/evaluate_enhancer.py`` measure the same thing.
"""
import cv2
import numpy as np

__all__ = ['auto_gain', 'auto_gamma', 'clahe', 'CLASSIC_BASELINES']


def _check_rgb8(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
            and image.shape[-1] == 3):
        raise TypeError(f'expected an H x W x 3 uint8 image, got {type(image).__name__} '
                        f'{getattr(image, "shape", "")} {getattr(image, "dtype", "")}')


def _check_target(target_mean: float) -> None:
    if not 0 < target_mean < 1:
        raise ValueError(f'target_mean must be in (0, 1), got {target_mean}')


def auto_gain(image: np.ndarray, target_mean: float = 0.45) -> np.ndarray:
    """One gain for all pixels (what a camera's exposure or a "brightness" slider does) that
    takes the image's mean level to ``target_mean``, values above 1 clipped.

    ``y = min(k x, 1)`` (x in [0, 1]). Under an sRGB-like power-law encoding this is an exact
    exposure change in linear light, so on synthetic darkening (a scaled linear image) it is the
    inverse up to noise and clipping; the gain is found on the 256-bin histogram (the clipped
    mean grows monotonically with ``k``). Images already at or above the target are returned
    unchanged.

    Args:
        image (np.ndarray): H x W x 3 uint8 (RGB or BGR: the gain is the same per channel).
        target_mean (float): Mean level of the result, in (0, 1). Defaults to 0.45 (as
            :func:`auto_gamma`).

    Returns:
        np.ndarray: H x W x 3 uint8.
    """
    _check_rgb8(image)
    _check_target(target_mean)
    levels = np.arange(256) / 255
    share = np.bincount(image.ravel(), minlength=256) / image.size
    if float(share @ levels) >= target_mean:
        return image.copy()
    low, high = 1.0, 255.0  # the clipped mean at k = 255 is that of the non-zero share: >= 1/255
    for _ in range(40):  # bisection in log k: far below a grey level
        middle = np.sqrt(low * high)
        low, high = (middle, high) if share @ np.minimum(middle * levels, 1) < target_mean \
            else (low, middle)
    table = np.round(255 * np.minimum(np.sqrt(low * high) * levels, 1)).astype(np.uint8)
    return cv2.LUT(image, table)


def auto_gamma(image: np.ndarray, target_mean: float = 0.45) -> np.ndarray:
    """A global gamma curve that takes the image's mean level to ``target_mean``.

    ``y = x ** g`` with ``g = log(target_mean) / log(mean(x))`` (x in [0, 1]); images already
    at or above the target are returned unchanged.

    Args:
        image (np.ndarray): H x W x 3 uint8 (RGB or BGR: the curve is the same per channel).
        target_mean (float): Mean level of the result, in (0, 1). Defaults to 0.45.

    Returns:
        np.ndarray: H x W x 3 uint8.
    """
    _check_rgb8(image)
    _check_target(target_mean)
    mean = float(image.mean()) / 255
    if mean >= target_mean:
        return image.copy()
    exponent = np.log(target_mean) / np.log(max(mean, 1e-4))
    table = np.round(255 * (np.arange(256) / 255)**exponent).astype(np.uint8)
    return cv2.LUT(image, table)


def clahe(image: np.ndarray, clip_limit: float = 2.0, tile_grid: int = 8,
          bgr: bool = False) -> np.ndarray:
    """OpenCV's contrast-limited adaptive histogram equalisation of the lightness (CIELAB L).

    Args:
        image (np.ndarray): H x W x 3 uint8.
        clip_limit (float): OpenCV's ``clipLimit``. Defaults to 2.0.
        tile_grid (int): Tiles per side. Defaults to 8.
        bgr (bool): The image is in OpenCV's BGR order (as read by ``cv2.imread``).

    Returns:
        np.ndarray: H x W x 3 uint8, same channel order.
    """
    _check_rgb8(image)
    to_lab, from_lab = (cv2.COLOR_BGR2LAB, cv2.COLOR_LAB2BGR) if bgr else \
        (cv2.COLOR_RGB2LAB, cv2.COLOR_LAB2RGB)
    lab = cv2.cvtColor(image, to_lab)
    equaliser = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(tile_grid, tile_grid))
    lab[..., 0] = equaliser.apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, from_lab)


#: name -> function of an RGB uint8 image, for tables.
CLASSIC_BASELINES = {'auto gain': auto_gain, 'auto gamma': auto_gamma, 'CLAHE': clahe}
