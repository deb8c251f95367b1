"""The ``SGZEnhancer`` constructor arguments a checkpoint implies.

One place for the rule that :func:`mmlowlight.apis.init_enhancer` and the downstream data
preprocessors (``enhancer=None``) both follow, so that the package's default weights build the
same enhancer everywhere, whatever their ``meta['enhancer']`` records after retraining.
"""
from typing import Any, Dict, Mapping

from torch import Tensor

from mmlowlight.utils import load_checkpoint_file
from .checkpoint import extract_enhancer_state_dict
from .official import infer_enhancer_args, is_official_state_dict

__all__ = ['OFFICIAL_SCALE_FACTOR', 'enhancer_args_from_checkpoint',
           'enhancer_config_from_checkpoint']

#: The EFE input downscale of the official SGZ inference (``test.py``), used by default for
#: official checkpoints, which do not record it.
OFFICIAL_SCALE_FACTOR = 12


def enhancer_args_from_checkpoint(checkpoint: Any,
                                  state_dict: Mapping[str, Tensor]) -> Dict[str, Any]:
    """Constructor arguments of the enhancer whose weights a loaded checkpoint holds.

    The architecture is read off the weights (``conv_type``, ``channels``, ``shared_factor``);
    official SGZ state dicts run at :data:`OFFICIAL_SCALE_FACTOR`; whatever the checkpoint
    records in ``meta['enhancer']`` (our checkpoints: the arguments they were trained with,
    e.g. ``scale_factor`` or exposure settings) wins.

    Args:
        checkpoint: The loaded checkpoint object (a state dict or a dict with ``state_dict``
            and ``meta``).
        state_dict (Mapping[str, Tensor]): Its enhancer weights in our key format (see
            :func:`extract_enhancer_state_dict`).

    Returns:
        dict: Keyword arguments of ``SGZEnhancer`` (no ``type``).
    """
    args: Dict[str, Any] = infer_enhancer_args(state_dict)
    raw = checkpoint
    if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get('state_dict'), Mapping):
        raw = checkpoint['state_dict']
    if is_official_state_dict(raw):
        args['scale_factor'] = OFFICIAL_SCALE_FACTOR  # what the official test.py runs
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    if isinstance(meta, Mapping) and isinstance(meta.get('enhancer'), Mapping):
        args.update(meta['enhancer'])
    return args


def enhancer_config_from_checkpoint(filename: str, checkpoint: Any = None) -> Dict[str, Any]:
    """Registry config (``type='SGZEnhancer'``, our scope) of the enhancer in a checkpoint.

    Args:
        filename (str): Any checkpoint :func:`extract_enhancer_state_dict` understands, loaded
            with ``weights_only=True``.
        checkpoint (optional): The file's content when the caller has loaded it already
            (it is then not read again).

    Returns:
        dict: ``dict(type='SGZEnhancer', _scope_='mmlowlight', **args)``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        ValueError: The file holds no enhancer weights.
    """
    if checkpoint is None:
        checkpoint = load_checkpoint_file(filename)
    state_dict = extract_enhancer_state_dict(checkpoint, filename)
    return dict(type='SGZEnhancer', _scope_='mmlowlight',
                **enhancer_args_from_checkpoint(checkpoint, state_dict))
