"""Argument and reporting helpers shared by ``tools/dataset_converters/*2coco.py``."""
import argparse
from typing import Callable, Dict

from .coco_format import ConversionError

__all__ = ['add_output_arguments', 'run_converter']


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``-o/--out-dir`` and ``--skip-invalid`` to a converter's parser."""
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--skip-invalid', action='store_true',
                        help='skip images with missing/malformed files (warned) instead of '
                        'failing')


def run_converter(convert: Callable[..., Dict[str, str]], *args, **kwargs) -> None:
    """Call ``convert`` and print the written files; bad input exits with its message.

    Raises:
        SystemExit: The conversion failed on missing or malformed input files.
    """
    try:
        written = convert(*args, **kwargs)
    except (ConversionError, FileNotFoundError) as err:
        raise SystemExit(f'error: {err}')
    for split, path in written.items():
        print(f'{split}: {path}')
