"""One rule for building an enhancer from a config and a checkpoint.

A checkpoint records the inference pipeline its weights were made for (``meta['enhancer']``:
the exposure control, the denoiser, ``scale_factor`` ...). Every place that builds an enhancer
for a checkpoint (:func:`mmlowlight.apis.init_enhancer`, the mmdet/mmseg data preprocessors,
``ZeroShotEnhancer`` with a ``load_from``, the downstream benchmarks) follows the same rule:

    the checkpoint's recorded pipeline, with the config's keys overriding it.

So ``dict(type='SGZEnhancer', scale_factor=2)`` changes only the scale, and
``exposure_control=None`` / ``denoiser=None`` turn a stage off explicitly. A sub-config given as
a dict of the same type (or without a ``type``) updates the recorded one key by key
(``exposure_control=dict(max_level=0.5)``); one of another type replaces it.
"""
from typing import Any, Dict, Mapping, Optional, Tuple

from torch import nn

from mmlowlight.registry import MODELS
from mmlowlight.utils import load_checkpoint_file
from .checkpoint import extract_enhancer_state_dict, load_enhancer_state_dict
from .checkpoint_args import enhancer_config_from_checkpoint

__all__ = ['merge_enhancer_args', 'resolve_enhancer_config', 'build_enhancer', 'describe_enhancer',
           'plain', 'constructor_args', 'PipelineConfigError']

#: The enhancer the rule applies to (any other type is built exactly as configured).
SGZ_TYPE = 'SGZEnhancer'
#: The parameter-free stages of the pipeline, in the order they act on an image.
STAGES = ('exposure_control', 'denoiser')


def plain(value: Any) -> Any:
    """``value`` with every Mapping (e.g. mmengine's ConfigDict) turned into a plain dict,
    recursively: what ``torch.load(weights_only=True)`` can read back from a checkpoint."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def constructor_args(cfg: Mapping) -> Dict[str, Any]:
    """An enhancer config's constructor arguments as plain values (no ``type``/``_scope_``):
    the pipeline a checkpoint records as ``meta['enhancer']``."""
    return {k: v for k, v in plain(cfg).items() if k not in ('type', '_scope_')}


def _short_type(cfg: Mapping) -> str:
    """``'mmlowlight.CurveExposureControl'`` -> ``'CurveExposureControl'``."""
    return str(cfg.get('type', '')).split('.')[-1]


class PipelineConfigError(ValueError):
    """An enhancer config that cannot be merged with the pipeline the weights record."""


def merge_enhancer_args(recorded: Mapping[str, Any],
                        overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """The recorded ``SGZEnhancer`` arguments with ``overrides`` winning key by key.

    Args:
        recorded (Mapping): Arguments a checkpoint implies (architecture + ``meta['enhancer']``).
        overrides (Mapping): Arguments from a config (no ``type``); ``None`` for a stage turns it
            off; a dict for a recorded stage of the same type (or without ``type``) updates it.

    Returns:
        dict: The merged arguments (new dicts; the inputs are not changed).
    """
    merged: Dict[str, Any] = plain(recorded)
    for key, value in plain(overrides).items():
        old = merged.get(key)
        if (isinstance(value, dict) and isinstance(old, dict)
                and _short_type(value) in ('', _short_type(old))):
            merged[key] = {**old, **{k: v for k, v in value.items() if k != 'type'}}
        else:
            merged[key] = value
    return merged


def describe_enhancer(args: Mapping[str, Any], overridden: Optional[set] = None) -> str:
    """One line naming the pipeline an enhancer config builds, e.g.
    ``SGZEnhancer(dsc, scale_factor=12) + CurveExposureControl + NoiseAdaptiveGuidedFilter``.

    Args:
        args (Mapping): ``SGZEnhancer`` arguments (with or without ``type``).
        overridden (set, optional): Keys the config set; marked ``[config]`` in the line.
    """
    overridden = overridden or set()
    mark = (lambda key: ' [config]' if key in overridden else '')
    parts = [f'SGZEnhancer({args.get("conv_type", "dsc")}, '
             f'scale_factor={args.get("scale_factor", 1)}{mark("scale_factor")})']
    for stage in STAGES:
        cfg = args.get(stage)
        if isinstance(cfg, Mapping):
            parts.append(_short_type(cfg) + mark(stage))
        else:
            parts.append(f'no {stage.replace("_", " ")}{mark(stage)}')
    return ' + '.join(parts)


def resolve_enhancer_config(enhancer: Optional[Mapping], checkpoint: Optional[str],
                            loaded: Any = None) -> Tuple[Dict[str, Any], str]:
    """The enhancer's registry config under the rule of this module, and a line saying why.

    Args:
        enhancer (Mapping, optional): A config dict with a ``type``; None: the checkpoint's
            recorded pipeline as it is.
        checkpoint (str, optional): The weights' file; None (random initialisation): the
            config as it is (``enhancer`` must then be given).
        loaded (optional): The file's content, where the caller has loaded it already.

    Returns:
        tuple[dict, str]: The config (``_scope_='mmlowlight'`` set unless given) and a one-line
        description of the pipeline and its source, for logs.

    Raises:
        TypeError: ``enhancer`` is neither None nor a dict with a ``type``.
        ValueError: Both are None.
        PipelineConfigError: A stage's settings without a ``type`` that the checkpoint does not
            record (nothing to update).
        CheckpointError: The checkpoint cannot be read or holds no enhancer weights.
    """
    if enhancer is not None and not (isinstance(enhancer, Mapping) and 'type' in enhancer):
        raise TypeError('enhancer must be None (the pipeline the checkpoint records) or a '
                        f'config dict with a "type", got {enhancer!r}')
    if checkpoint is None:
        if enhancer is None:
            raise ValueError('an enhancer needs a config or a checkpoint, got neither')
        cfg = plain(enhancer)
        cfg.setdefault('_scope_', 'mmlowlight')
        return cfg, f'{describe_enhancer(cfg)}, as configured (random initialisation)'
    if enhancer is not None and _short_type(enhancer) != SGZ_TYPE:
        cfg = plain(enhancer)  # not ours to merge: a user's own enhancer class
        cfg.setdefault('_scope_', 'mmlowlight')
        return cfg, f'{_short_type(enhancer)} as configured, weights from {checkpoint}'
    recorded = enhancer_config_from_checkpoint(checkpoint, loaded)
    overrides = {k: v for k, v in (enhancer or {}).items() if k not in ('type', '_scope_')}
    cfg = merge_enhancer_args(recorded, overrides)
    for stage in STAGES:
        if isinstance(cfg.get(stage), Mapping) and not _short_type(cfg[stage]):
            raise PipelineConfigError(
                f'cannot update {stage} with {cfg[stage]!r}: {checkpoint} records no {stage} '
                f'(the official SGZ weights record none; a config dict with a type adds one)')
    if enhancer is not None:
        cfg['type'] = enhancer['type']
        cfg['_scope_'] = enhancer.get('_scope_', recorded['_scope_'])
    described = describe_enhancer(cfg, set(overrides))
    source = 'the pipeline recorded in' if not overrides else \
        'the config\'s keys over the pipeline recorded in'
    return cfg, f'{described}: {source} {checkpoint}'


def build_enhancer(enhancer: Optional[Mapping], checkpoint: str
                   ) -> Tuple[nn.Module, Dict[str, Any], str]:
    """Build the enhancer of :func:`resolve_enhancer_config` and load its weights, reading the
    checkpoint once.

    Args:
        enhancer (Mapping, optional): Config keys over the recorded pipeline (None: as recorded).
        checkpoint (str): The weights' file (read with ``weights_only=True``).

    Returns:
        tuple[nn.Module, dict, str]: The enhancer with its weights, its config and the line
        saying what was built from what.

    Raises:
        CheckpointError: The file cannot be read, holds no enhancer weights or weights of
            another architecture than the config asks for; the message names the file.
    """
    loaded = load_checkpoint_file(checkpoint)
    cfg, line = resolve_enhancer_config(enhancer, checkpoint, loaded)
    module = MODELS.build(cfg)
    load_enhancer_state_dict(module, extract_enhancer_state_dict(loaded, checkpoint), checkpoint)
    return module, cfg, line
