"""Listing the images of a folder tree, for the folder datasets."""
import os
import os.path as osp
import warnings
from typing import List, Sequence, Tuple

from PIL import Image

__all__ = ['IMG_EXTENSIONS', 'scan_image_folder']

#: Extensions (lower case) read as images; others are skipped with a warning.
IMG_EXTENSIONS: Tuple[str, ...] = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                                   '.ppm', '.pgm')

# How many names one warning lists before it summarises the rest as a count.
_MAX_NAMES_SHOWN = 20


def _names(paths: Sequence[str]) -> str:
    shown = ', '.join(paths[:_MAX_NAMES_SHOWN])
    more = len(paths) - _MAX_NAMES_SHOWN
    return shown + (f' and {more} more' if more > 0 else '')


def _header_error(path: str) -> str:
    """Return why PIL cannot read ``path``'s header, or '' when it can.

    ``Image.verify`` parses the header and, for PNG, checks the chunk checksums without
    decoding pixels: cheap enough to run on every file when a dataset is built.
    """
    try:
        with Image.open(path) as img:
            img.verify()
    except Exception as exc:  # PIL raises many types (OSError, SyntaxError, struct.error ...)
        return f'{type(exc).__name__}: {exc}'
    return ''


def scan_image_folder(folder: str,
                      extensions: Sequence[str] = IMG_EXTENSIONS,
                      recursive: bool = True,
                      verify: bool = True) -> List[str]:
    """List the readable images under ``folder``, as sorted paths relative to it.

    Files whose extension is not in ``extensions`` are skipped with ONE warning naming them;
    image files whose header PIL cannot read are skipped with ONE warning naming each path and
    its error, so a training run never stops on a single broken file.

    Args:
        folder (str): Root folder.
        extensions (Sequence[str]): Image extensions, case-insensitive, with the dot.
        recursive (bool): Whether to descend into sub-folders. Defaults to True.
        verify (bool): Whether to check each image's header with PIL. Defaults to True.

    Returns:
        list[str]: Relative paths (``/``-separated on POSIX) in sorted order.

    Raises:
        FileNotFoundError: ``folder`` is not a directory.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist or is not a directory')
    extensions = tuple(e.lower() for e in extensions)
    images, others = [], []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        if not recursive:
            dirs.clear()
        for name in sorted(files):
            rel = osp.relpath(osp.join(root, name), folder)
            (images if name.lower().endswith(extensions) else others).append(rel)
    if others:
        warnings.warn(f'{folder}: skipped {len(others)} non-image file(s) (extensions other '
                      f'than {", ".join(extensions)}): {_names(others)}')
    if verify:
        errors = {rel: _header_error(osp.join(folder, rel)) for rel in images}
        bad = [f'{osp.join(folder, rel)} ({err})' for rel, err in errors.items() if err]
        if bad:
            warnings.warn(f'{folder}: skipped {len(bad)} unreadable image(s): {_names(bad)}')
            images = [rel for rel in images if not errors[rel]]
    return images
