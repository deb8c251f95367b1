"""Checkpoint loading that keeps ``weights_only=True`` on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that means
``weights_only=True``, and the checkpoints mmengine's Runner writes (a ``message_hub`` of
``HistoryBuffer`` objects holding numpy arrays) fail to load, which breaks ``load_from``,
``resume`` and local ``Pretrained`` init. Instead of turning the safe unpickler off, this module
widens its allow-list by exactly the classes a Runner checkpoint holds, and replaces the one
dangerous global they need (``builtins.getattr``, used to pickle ``HistoryBuffer``'s statistics
methods) by a getattr restricted to those methods. The loader is installed through mmengine's own
extension point, ``CheckpointLoader.register_scheme``.

Every failure to load is one :class:`CheckpointError` subclass whose message is one line naming
the file and what is wrong with it (missing, not a checkpoint, truncated or damaged, holding
objects a safe load refuses). torch's own message is not passed on: for a file of unknown origin
its advice to re-run with ``weights_only=False`` is the wrong one.
"""
import os.path as osp
import pickle
import re
import zipfile
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

__all__ = [
    'load_checkpoint_file', 'register_checkpoint_loader', 'CheckpointError',
    'CheckpointNotFoundError', 'NotACheckpointError', 'DamagedCheckpointError',
    'UnsafeCheckpointError', 'NoEnhancerWeightsError', 'EnhancerMismatchError'
]


class CheckpointError(RuntimeError):
    """A checkpoint could not be used; ``str(error)`` is one line: ``'<file>: <problem>'``.

    Args:
        filename (str): The checkpoint's path, as given.
        problem (str): What is wrong with it.
    """

    def __init__(self, filename: str, problem: str) -> None:
        super().__init__(f'{filename}: {problem}')
        self.filename = filename
        self.problem = problem

    def __str__(self) -> str:  # OSError's (a base of CheckpointNotFoundError) would differ
        return f'{self.filename}: {self.problem}'


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist."""


class NotACheckpointError(CheckpointError):
    """The file is not a PyTorch checkpoint at all (an image, a text file, a plain pickle…)."""


class DamagedCheckpointError(CheckpointError):
    """The file is a checkpoint, but truncated or corrupted (an interrupted download or copy)."""


class UnsafeCheckpointError(CheckpointError):
    """The checkpoint holds objects that a ``weights_only=True`` load refuses to create."""


class NoEnhancerWeightsError(CheckpointError, ValueError):
    """The checkpoint loads but holds no SGZ enhancer weights."""


class EnhancerMismatchError(CheckpointError):
    """The checkpoint holds enhancer weights of another architecture than the model's."""


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """``getattr`` for the unpickler, limited to the public methods of ``HistoryBuffer``."""
    if obj is HistoryBuffer and not name.startswith('_') and callable(
            vars(HistoryBuffer).get(name)):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint: only '
        'public methods of mmengine HistoryBuffer are allowed')


def _numpy_globals() -> List[Any]:
    core = getattr(np, '_core', None) or np.core  # numpy 2 / numpy 1
    dtypes = [
        getattr(np.dtypes, name) for name in getattr(np.dtypes, '__all__', [])
        if isinstance(getattr(np.dtypes, name), type)
    ]
    return [core.multiarray.scalar, core.multiarray._reconstruct, np.ndarray, np.dtype
            ] + dtypes


def _safe_globals() -> List[Any]:
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] + _numpy_globals()


def load_checkpoint_file(filename: str,
                         map_location: Optional[Union[str, torch.device]] = 'cpu') -> Any:
    """Load a local checkpoint with ``weights_only=True``.

    Plain state dicts (ours, official SGZ weights, torchvision/timm weights) and mmengine Runner
    checkpoints load; anything else that needs arbitrary code to unpickle is refused.

    Args:
        filename (str): Path of the checkpoint (``~`` is expanded).
        map_location (str | torch.device, optional): As in :func:`torch.load`.

    Returns:
        The unpickled object (usually a dict).

    Raises:
        CheckpointNotFoundError: The file does not exist (also a ``FileNotFoundError``).
        NotACheckpointError: The file is no PyTorch checkpoint.
        DamagedCheckpointError: The file is truncated or corrupted.
        UnsafeCheckpointError: It holds objects that need arbitrary code to unpickle.
    """
    filename = osp.expanduser(str(filename))
    if not osp.exists(filename):
        raise CheckpointNotFoundError(filename, 'no such checkpoint file')
    if not osp.isfile(filename):
        raise NotACheckpointError(filename, 'is a directory, not a checkpoint file')
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # a bad file makes torch.load raise anything from OSError to KeyError
        # ``from None``: torch's message would tell the user to switch the safe loading off.
        raise diagnose_load_failure(filename, exc) from None


#: First bytes of files that are often mistaken for checkpoints, and what they are.
_FILE_SIGNATURES = (
    (b'\x89PNG', 'a PNG image'),
    (b'\xff\xd8\xff', 'a JPEG image'),
    (b'GIF8', 'a GIF image'),
    (b'%PDF', 'a PDF document'),
    (b'\x1f\x8b', 'gzip-compressed data (unpack it first)'),
    (b'\x89HDF', 'an HDF5 file (Keras/TensorFlow weights?)'),
)
_ZIP_SIGNATURE = b'PK\x03\x04'
#: ``torch.save(..., _use_new_zipfile_serialization=False)`` files start with this pickle.
_LEGACY_TORCH_SIGNATURE = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)[:-1]


def _what_file_is(header: bytes) -> str:
    for signature, kind in _FILE_SIGNATURES:
        if header.startswith(signature):
            return kind
    if header[8:10] == b'{"':
        return 'a safetensors file'
    if header[:2] in (b'\x80\x02', b'\x80\x03', b'\x80\x04', b'\x80\x05'):
        return 'a plain Python pickle (torch.save writes a zip archive)'
    text = header.lstrip().lower()
    if text.startswith((b'<!doctype html', b'<html')):
        return 'an HTML page (a download that returned an error page?)'
    try:
        header.decode('utf-8')
        return 'a text file'
    except UnicodeDecodeError:
        return f'unknown data starting with {header[:8]!r}'


def _refused_object(exc: BaseException) -> Optional[str]:
    """The reason a weights-only unpickler gave, without torch's advice around it."""
    message = str(exc)
    found = re.search(r'GLOBAL ([\w.]+)', message)
    if found:
        return f'a {found.group(1)} object'
    found = re.search(r'(refusing getattr\([^)]*\))', message)
    if found:
        return found.group(1)
    return None


def _zip_problem(filename: str, size: int) -> Optional[Exception]:
    """Check the zip container of a new-format checkpoint; None if it looks sound."""
    try:
        with zipfile.ZipFile(filename) as archive:
            names = archive.namelist()
            if not any(name.endswith('/data.pkl') for name in names):
                return NotACheckpointError(
                    filename, f'is a zip archive but not a PyTorch checkpoint (no data.pkl '
                    f'among its {len(names)} members)')
            bad_member = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        return DamagedCheckpointError(
            filename, f'is truncated ({size:,} bytes, the end of its zip archive is missing): '
            'an interrupted download or copy? Fetch the file again')
    if bad_member is not None:
        return DamagedCheckpointError(
            filename, f'is damaged (the zip member {bad_member} fails its CRC check): fetch '
            'the file again')
    return None


def diagnose_load_failure(filename: str, exc: BaseException) -> CheckpointError:
    """Turn a failed ``torch.load`` of ``filename`` into the :class:`CheckpointError` it means.

    Args:
        filename (str): The file that failed to load.
        exc (BaseException): What ``torch.load`` raised.

    Returns:
        CheckpointError: The matching subclass, with a one-line message naming the file.
    """
    size = osp.getsize(filename)
    if size == 0:
        return NotACheckpointError(filename, 'is empty (0 bytes)')
    with open(filename, 'rb') as f:
        header = f.read(64)
    refused = _refused_object(exc)
    if header.startswith(_ZIP_SIGNATURE):
        problem = _zip_problem(filename, size)
        if problem is not None:
            return problem
    elif header.startswith(_LEGACY_TORCH_SIGNATURE):
        if refused is None and isinstance(exc, (EOFError, RuntimeError, OSError)):
            return DamagedCheckpointError(
                filename, f'is truncated or damaged ({size:,} bytes; a legacy-format '
                'checkpoint that ends early): fetch the file again')
    else:
        return NotACheckpointError(
            filename, f'is not a PyTorch checkpoint: it looks like {_what_file_is(header)}')
    if refused is not None:
        return UnsafeCheckpointError(
            filename, f'holds {refused}, which a safe (weights_only=True) load refuses to '
            'create, since unpickling it could run arbitrary code; only tensors, numbers, '
            'containers and mmengine training state are loaded')
    return UnsafeCheckpointError(
        filename, f'holds data that a safe (weights_only=True) load cannot read '
        f'({type(exc).__name__}); only tensors, numbers, containers and mmengine training state '
        'are loaded')


def load_from_local_safe(filename: str, map_location: Optional[Union[str, torch.device]]) -> Any:
    """mmengine checkpoint scheme for local paths (the ``''`` prefix); see module docstring."""
    return load_checkpoint_file(filename, map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`load_checkpoint_file`.

    Idempotent. Called when :mod:`mmlowlight` is imported, so that configs which only list
    ``custom_imports=dict(imports=['mmlowlight'])`` get working ``load_from``/``resume``.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
