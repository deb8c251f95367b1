"""Finding and loading an SGZ enhancer's weights in any checkpoint we know.

Lives in the models layer (not in :mod:`mmlowlight.apis`) because the downstream data
preprocessors load their enhancer eagerly and models must not import apis.
"""
import os.path as osp
from typing import Any, Dict, Mapping

import torch.nn as nn
from torch import Tensor

from mmlowlight.utils import load_checkpoint_file
from .official import convert_official_state_dict, is_official_state_dict

__all__ = ['DEFAULT_CHECKPOINT', 'extract_enhancer_state_dict', 'load_enhancer_weights']

#: The package's default weights (trained zero-shot by ``tools/train.py``; see the README).
DEFAULT_CHECKPOINT = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'weights', 'sgz_default.pth')


def extract_enhancer_state_dict(checkpoint: Any, filename: str = '<checkpoint>'
                                ) -> Dict[str, Tensor]:
    """Return the enhancer's weights, in our key format, from any checkpoint we know.

    Accepts official SGZ state dicts (``e_conv1.depth_conv.weight`` …), our plain enhancer state
    dicts, and mmengine checkpoints of a :class:`ZeroShotEnhancer` or of a detector/segmentor
    whose data preprocessor holds the enhancer (the key prefix is found and stripped).

    Args:
        checkpoint: The loaded object (a state dict or a dict with ``'state_dict'``).
        filename (str): Shown in error messages.

    Raises:
        ValueError: No enhancer weights were found.
    """
    state_dict = checkpoint
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get('state_dict'), Mapping):
        state_dict = checkpoint['state_dict']
    if not isinstance(state_dict, Mapping) or not state_dict:
        raise ValueError(f'{filename}: not a state dict (got {type(state_dict).__name__})')
    if is_official_state_dict(state_dict):
        return convert_official_state_dict(state_dict)
    marker = 'efe.blocks.0.'
    prefixes = {k[:k.index(marker)] for k in state_dict
                if k.startswith(marker) or f'.{marker}' in k}
    if len(prefixes) != 1:
        found = 'no' if not prefixes else f'{len(prefixes)} ({sorted(prefixes)})'
        raise ValueError(f'{filename}: expected the weights of one SGZ enhancer (official '
                         f'e_conv* keys or *efe.blocks.* keys), found {found}')
    prefix = prefixes.pop()
    return {k[len(prefix):]: v for k, v in state_dict.items()
            if k.startswith(prefix + 'efe.')}


def load_enhancer_weights(enhancer: nn.Module, filename: str) -> None:
    """Load an enhancer's weights in place from a local checkpoint (``weights_only=True``).

    Args:
        enhancer (nn.Module): An :class:`SGZEnhancer` whose architecture fits the weights.
        filename (str): Any checkpoint :func:`extract_enhancer_state_dict` understands.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        ValueError: The file holds no enhancer weights.
        RuntimeError: The weights do not fit ``enhancer`` (the message names the file).
    """
    state_dict = extract_enhancer_state_dict(load_checkpoint_file(filename), filename)
    try:
        enhancer.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        raise RuntimeError(f'{filename} does not fit {enhancer.__class__.__name__}: {exc}'
                           ) from exc
