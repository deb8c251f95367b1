"""Checkpoint loading that keeps ``weights_only=True`` on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that means
``weights_only=True``, and the checkpoints mmengine's Runner writes (a ``message_hub`` of
``HistoryBuffer`` objects holding numpy arrays) fail to load, which breaks ``load_from``,
``resume`` and local ``Pretrained`` init. Instead of turning the safe unpickler off, this module
widens its allow-list by exactly the classes a Runner checkpoint holds, and replaces the one
dangerous global they need (``builtins.getattr``, used to pickle ``HistoryBuffer``'s statistics
methods) by a getattr restricted to those methods. The loader is installed through mmengine's own
extension point, ``CheckpointLoader.register_scheme``.
"""
import os.path as osp
import pickle
from typing import Any, Callable, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

__all__ = ['load_checkpoint_file', 'register_checkpoint_loader']


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
        FileNotFoundError: The file does not exist.
        RuntimeError: The file is not a loadable checkpoint; the message names the file.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise RuntimeError(
            f'could not load checkpoint {filename} with weights_only=True: {exc}') from exc


def load_from_local_safe(filename: str, map_location: Optional[Union[str, torch.device]]) -> Any:
    """mmengine checkpoint scheme for local paths (the ``''`` prefix); see module docstring."""
    return load_checkpoint_file(filename, map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints through :func:`load_checkpoint_file`.

    Idempotent. Called when :mod:`mmlowlight` is imported, so that configs which only list
    ``custom_imports=dict(imports=['mmlowlight'])`` get working ``load_from``/``resume``.
    """
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_safe, force=True)
