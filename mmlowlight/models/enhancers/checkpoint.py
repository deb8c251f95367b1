"""Finding and loading an SGZ enhancer's weights in any checkpoint we know.

Lives in the models layer (not in :mod:`mmlowlight.apis`) because the downstream data
preprocessors load their enhancer eagerly and models must not import apis.
"""
import os.path as osp
from typing import Any, Dict, List, Mapping

import torch.nn as nn
from torch import Tensor

from mmlowlight.utils import EnhancerMismatchError, NoEnhancerWeightsError, load_checkpoint_file
from .official import convert_official_state_dict, infer_enhancer_args, is_official_state_dict

__all__ = [
    'DEFAULT_CHECKPOINT', 'extract_enhancer_state_dict', 'load_enhancer_weights',
    'load_enhancer_state_dict'
]

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
        NoEnhancerWeightsError: No enhancer weights were found (also a ``ValueError``).
    """
    state_dict = checkpoint
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get('state_dict'), Mapping):
        state_dict = checkpoint['state_dict']
    if not isinstance(state_dict, Mapping) or not state_dict:
        what = 'an empty state dict' if isinstance(state_dict, Mapping) else \
            f'not a state dict but a {type(state_dict).__name__}'
        raise NoEnhancerWeightsError(filename, f'holds no enhancer weights: {what}')
    if is_official_state_dict(state_dict):
        return convert_official_state_dict(state_dict)
    marker = 'efe.blocks.0.'
    prefixes = {k[:k.index(marker)] for k in state_dict
                if k.startswith(marker) or f'.{marker}' in k}
    if len(prefixes) != 1:
        found = 'none' if not prefixes else f'{len(prefixes)} ({sorted(prefixes)})'
        raise NoEnhancerWeightsError(
            filename, f'holds no enhancer weights: expected those of one SGZ enhancer '
            f'(official e_conv* keys or *efe.blocks.* keys) among its {len(state_dict)} '
            f'tensors, found {found}')
    prefix = prefixes.pop()
    return {k[len(prefix):]: v for k, v in state_dict.items()
            if k.startswith(prefix + 'efe.')}


def _architecture(state_dict: Mapping[str, Tensor]) -> Dict[str, object]:
    try:
        return infer_enhancer_args(state_dict)
    except KeyError:
        return {}


def _some(keys: List[str]) -> str:
    shown = ', '.join(keys[:3])
    return shown + (f' and {len(keys) - 3} more' if len(keys) > 3 else '')


def _describe_mismatch(model: nn.Module, state_dict: Mapping[str, Tensor]) -> str:
    """One line on how ``state_dict`` differs from what ``model`` holds."""
    own = model.state_dict()
    theirs, ours = _architecture(state_dict), _architecture(own)
    differing = [f'{key}={theirs[key]!r} (model: {ours.get(key)!r})'
                 for key in sorted(theirs) if theirs[key] != ours.get(key)]
    if differing:
        return f'the file holds {type(model).__name__} weights with ' + ', '.join(differing)
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f'{k} {tuple(state_dict[k].shape)} (model: {tuple(own[k].shape)})'
              for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    parts = []
    if missing:
        parts.append(f'the file lacks {len(missing)} of the model\'s tensors ({_some(missing)})')
    if unexpected:
        parts.append(f'it has {len(unexpected)} the model does not ({_some(unexpected)})')
    if shapes:
        parts.append(f'{len(shapes)} differ in shape ({_some(shapes)})')
    return '; '.join(parts) or 'the tensors do not load'


def load_enhancer_state_dict(enhancer: nn.Module, state_dict: Mapping[str, Tensor],
                             filename: str) -> None:
    """``enhancer.load_state_dict(state_dict, strict=True)`` with a one-line error.

    Args:
        enhancer (nn.Module): The model to fill.
        state_dict (Mapping[str, Tensor]): From :func:`extract_enhancer_state_dict`.
        filename (str): Shown in the error message.

    Raises:
        EnhancerMismatchError: The weights are of another architecture (the message names the
            file and the differing constructor arguments or tensors).
    """
    try:
        enhancer.load_state_dict(state_dict, strict=True)
    except RuntimeError:
        # torch's message lists every tensor over many lines; one line says more.
        raise EnhancerMismatchError(
            filename, f'weights of another architecture: {_describe_mismatch(enhancer, state_dict)}'
        ) from None


def load_enhancer_weights(enhancer: nn.Module, filename: str) -> None:
    """Load an enhancer's weights in place from a local checkpoint (``weights_only=True``).

    Args:
        enhancer (nn.Module): An :class:`SGZEnhancer` whose architecture fits the weights.
        filename (str): Any checkpoint :func:`extract_enhancer_state_dict` understands.

    Raises:
        CheckpointError: The file is missing, not a checkpoint, damaged, unsafe, holds no
            enhancer weights (:class:`NoEnhancerWeightsError`) or weights that do not fit
            ``enhancer`` (:class:`EnhancerMismatchError`); the message names the file.
    """
    state_dict = extract_enhancer_state_dict(load_checkpoint_file(filename), filename)
    load_enhancer_state_dict(enhancer, state_dict, filename)
