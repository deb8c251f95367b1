"""Reading and writing photos for enhancement at their own size, depth, mode and format.

Pillow decodes (it reports truncated files, which OpenCV silently half-decodes, and it applies
the EXIF orientation); OpenCV decodes 16-bit colour files, which Pillow reduces to 8 bits, and
encodes every output. Outputs go to a temporary file in the target folder and are renamed into
place, so an interrupted run never leaves a partial output behind.
"""
import io
import os.path as osp
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
from PIL import Image, ImageOps

from mmlowlight.utils.fileio import atomic_output, atomic_write_bytes, temporary_name

__all__ = [
    'IMAGE_EXTENSIONS', 'ImageReadError', 'DecodedImage', 'read_image', 'encode_image',
    'atomic_write_bytes', 'atomic_output', 'temporary_name'
]

#: Extensions read and written (lower case, with the dot).
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
JPEG_QUALITY = 95


class ImageReadError(ValueError):
    """A file could not be decoded as an image; the message names the file and the reason."""


@dataclass
class DecodedImage:
    """An image as the enhancer needs it, plus what is needed to write it back alike.

    Attributes:
        rgb (np.ndarray): H x W x 3 RGB, uint8 or uint16 (grey images are replicated).
        alpha (np.ndarray, optional): H x W alpha channel of the same dtype, or None.
        grayscale (bool): The source had one colour channel (written back as grey).
        format (str): The source's format as Pillow names it (``'PNG'``, ``'JPEG'``, ...).
    """

    rgb: np.ndarray
    alpha: Optional[np.ndarray] = None
    grayscale: bool = False
    format: str = ''

    @property
    def max_value(self) -> int:
        """255 for 8-bit, 65535 for 16-bit images."""
        return int(np.iinfo(self.rgb.dtype).max)


def _is_16bit_colour(pil: Image.Image) -> bool:
    """Pillow opens 48/64-bit PNG/TIFF as 8-bit 'RGB'/'RGBA'; its raw mode still says 16."""
    if pil.mode not in ('RGB', 'RGBA') or not pil.tile:
        return False
    rawmode = pil.tile[0].args[0] if isinstance(pil.tile[0].args, tuple) else pil.tile[0].args
    return isinstance(rawmode, str) and '16' in rawmode


def _orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an H x W (x C) array, as ImageOps.exif_transpose does
    for Pillow images (needed for the 16-bit arrays that OpenCV decodes without it)."""
    transforms = {
        2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 2).swapaxes(0, 1), 8: lambda a: np.rot90(a, 1)
    }
    return np.ascontiguousarray(transforms[orientation](array)) \
        if orientation in transforms else array


def _read_16bit_colour(path: str, orientation: int) -> DecodedImage:
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if array is None or array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ImageReadError(f'{path}: OpenCV cannot decode this 16-bit image')
    array = _orient(array, orientation)
    rgb = np.ascontiguousarray(array[..., 2::-1])
    alpha = np.ascontiguousarray(array[..., 3]) if array.shape[2] == 4 else None
    return DecodedImage(rgb, alpha, False, 'PNG' if path.lower().endswith('.png') else 'TIFF')


def read_image(path: str) -> DecodedImage:
    """Decode an image file with its EXIF orientation applied.

    Args:
        path (str): An image file (PNG, JPEG, BMP, TIFF, WebP, ...).

    Returns:
        DecodedImage: RGB pixels (uint8, or uint16 for 16-bit sources), alpha if any.

    Raises:
        ImageReadError: The file is empty, truncated, not an image or in an unsupported mode.
    """
    path = str(path)
    if osp.isdir(path):
        raise ImageReadError(f'{path}: is a directory, not an image file')
    if osp.getsize(path) == 0:
        raise ImageReadError(f'{path}: empty file (0 bytes)')
    try:
        with Image.open(path) as pil:
            fmt = pil.format or ''
            # Before getexif(): for PNG it decodes the file and clears the tile list.
            deep_colour = _is_16bit_colour(pil)
            if deep_colour:
                return _read_16bit_colour(path, pil.getexif().get(0x0112, 1))
            pil.load()
            pil = ImageOps.exif_transpose(pil)
    except ImageReadError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        # Pillow's message may quote the path again ("cannot identify image file '<path>'").
        detail = str(exc).replace(f' {path!r}', '').replace(path, 'the file')
        raise ImageReadError(f'{path}: cannot decode as an image: {detail}') from exc
    return _from_pil(pil, fmt, path)


def decode_pil_image(pil: Image.Image) -> DecodedImage:
    """The pixels of an opened PIL image, decoded as :func:`read_image` decodes a file (EXIF
    orientation applied; RGB, grey, palette, alpha and 16-bit grey ``I;16`` modes).

    Args:
        pil (PIL.Image.Image): The image (loaded here if it is not yet).

    Raises:
        ImageReadError: A mode without an RGB reading (floating-point, 32-bit integer).
    """
    name = getattr(pil, 'filename', '') or f'<PIL {pil.mode} image>'
    fmt = pil.format or ''
    pil.load()
    return _from_pil(ImageOps.exif_transpose(pil), fmt, name)


def _from_pil(pil: Image.Image, fmt: str, path: str) -> DecodedImage:
    mode = pil.mode
    if mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        grey = np.array(pil)
        if mode == 'I' and (grey.min() < 0 or grey.max() > 65535):
            raise ImageReadError(f'{path}: 32-bit integer pixels are not supported')
        grey = grey.astype(np.uint16)
        return DecodedImage(np.repeat(grey[..., None], 3, axis=2), None, True, fmt)
    if mode in ('1', 'L', 'LA') or (mode == 'P' and pil.palette
                                    and pil.palette.mode in ('L', 'LA')):
        with_alpha = mode == 'LA' or 'transparency' in pil.info
        grey_alpha = np.array(pil.convert('LA'))
        grey = grey_alpha[..., 0]
        alpha = np.ascontiguousarray(grey_alpha[..., 1]) if with_alpha else None
        return DecodedImage(np.repeat(grey[..., None], 3, axis=2), alpha, True, fmt)
    if mode == 'F':
        raise ImageReadError(f'{path}: floating-point images are not supported')
    with_alpha = mode in ('RGBA', 'PA', 'La', 'RGBa') or 'transparency' in pil.info
    if with_alpha:
        rgba = np.array(pil.convert('RGBA'))
        return DecodedImage(np.ascontiguousarray(rgba[..., :3]),
                            np.ascontiguousarray(rgba[..., 3]), False, fmt)
    return DecodedImage(np.array(pil.convert('RGB')), None, False, fmt)


def encode_image(image: DecodedImage, ext: str) -> bytes:
    """Encode like the source: grey stays grey, alpha and 16 bits kept where ``ext`` can hold
    them (JPEG holds neither: alpha is dropped, 16-bit is reduced to 8-bit), JPEG at quality 95.

    Args:
        image (DecodedImage): Pixels to write (``rgb`` H x W x 3 uint8/uint16).
        ext (str): Output extension with the dot, e.g. ``'.png'``.

    Returns:
        bytes: The encoded file.
    """
    ext = ext.lower()
    is_jpeg = ext in ('.jpg', '.jpeg')
    rgb, alpha = image.rgb, image.alpha
    if is_jpeg or ext == '.webp':
        if rgb.dtype == np.uint16:
            rgb = (rgb.astype(np.float32) / 257).round().astype(np.uint8)
        alpha = None if is_jpeg or alpha is None else (
            alpha if alpha.dtype == np.uint8 else (alpha / 257).round().astype(np.uint8))
    if image.grayscale:
        grey = rgb.mean(axis=2, dtype=np.float32).round().astype(rgb.dtype)
        if alpha is not None and rgb.dtype == np.uint8:
            # OpenCV cannot encode 2-channel images; Pillow writes grey + alpha ('LA').
            buffer = io.BytesIO()
            Image.fromarray(np.stack([grey, alpha.astype(np.uint8)], axis=2), 'LA').save(
                buffer, format=Image.registered_extensions().get(ext, 'PNG'))
            return buffer.getvalue()
        channels = [grey] if alpha is None else [grey, grey, grey]
    else:
        channels = [rgb[..., 2], rgb[..., 1], rgb[..., 0]]
    if alpha is not None:
        channels.append(alpha.astype(rgb.dtype))
    array = channels[0] if len(channels) == 1 else np.stack(channels, axis=2)
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if is_jpeg else []
    ok, buffer = cv2.imencode(ext, array, params)
    if not ok:
        raise ValueError(f'OpenCV cannot encode a {array.shape} {array.dtype} image as {ext}')
    return buffer.tobytes()
