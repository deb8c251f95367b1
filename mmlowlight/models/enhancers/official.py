"""Conversion of the official SGZ / Zero-DCE++ state dicts to :class:`SGZEnhancer` keys.

The official code names its blocks ``e_conv1`` .. ``e_conv7``; depthwise-separable blocks hold
``depth_conv`` and ``point_conv`` (``e_conv1.depth_conv.weight``), plain blocks are bare convs
(``e_conv1.weight``). Our EFE names them ``efe.blocks.0`` .. ``efe.blocks.6`` with ``depthwise`` /
``pointwise`` children.
"""
import re
from typing import Dict, Mapping

from torch import Tensor

__all__ = ['is_official_state_dict', 'convert_official_state_dict', 'infer_enhancer_args']

_OFFICIAL_KEY = re.compile(r'^e_conv([1-7])\.(?:(depth_conv|point_conv)\.)?(weight|bias)$')
_SUBMODULE = {'depth_conv': 'depthwise.', 'point_conv': 'pointwise.', None: ''}


def _strip_module_prefix(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    # nn.DataParallel checkpoints prefix every key with 'module.'.
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state_dict.items()}


def is_official_state_dict(state_dict: Mapping[str, Tensor]) -> bool:
    """Whether every key follows the official ``e_convN[.depth_conv|.point_conv].weight`` form."""
    keys = list(_strip_module_prefix(state_dict))
    return bool(keys) and all(_OFFICIAL_KEY.match(k) for k in keys)


def convert_official_state_dict(state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Rename an official state dict to :class:`SGZEnhancer`'s keys.

    Args:
        state_dict (Mapping[str, Tensor]): Official weights, e.g. ``Epoch99.pth``.

    Returns:
        dict[str, Tensor]: The same tensors under ``efe.blocks.{i}.…`` keys.

    Raises:
        KeyError: A key is not an official EFE key (named in the message).
    """
    converted = {}
    for key, value in _strip_module_prefix(state_dict).items():
        match = _OFFICIAL_KEY.match(key)
        if match is None:
            raise KeyError(f'{key!r} is not a key of the official SGZ network (e_conv1..7)')
        index, sub, param = match.groups()
        converted[f'efe.blocks.{int(index) - 1}.{_SUBMODULE[sub]}{param}'] = value
    return converted


def infer_enhancer_args(state_dict: Mapping[str, Tensor]) -> Dict[str, object]:
    """Read ``conv_type``, ``channels`` and ``shared_factor`` off an ``SGZEnhancer`` state dict.

    Args:
        state_dict (Mapping[str, Tensor]): Weights in our key format.

    Returns:
        dict: Constructor arguments of :class:`SGZEnhancer` that the weights determine
        (``shared_factor`` only when the last block has 3 output channels, since the number of
        iterations of a per-step map cannot be told apart from its width alone).
    """
    if 'efe.blocks.0.depthwise.weight' in state_dict:
        conv_type, first, last = 'dsc', 'efe.blocks.0.pointwise.weight', \
            'efe.blocks.6.pointwise.weight'
    elif 'efe.blocks.0.weight' in state_dict:
        conv_type, first, last = 'conv', 'efe.blocks.0.weight', 'efe.blocks.6.weight'
    else:
        raise KeyError('state dict holds no SGZEnhancer weights (no efe.blocks.0.* key)')
    args: Dict[str, object] = dict(
        conv_type=conv_type, channels=int(state_dict[first].shape[0]))
    out_channels = int(state_dict[last].shape[0])
    if out_channels == 3:
        args['shared_factor'] = True
    else:
        args.update(shared_factor=False, num_iterations=out_channels // 3)
    return args
