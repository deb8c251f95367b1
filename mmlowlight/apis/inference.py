"""High-level inference API: build an enhancer and enhance images."""
import os
import os.path as osp
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from PIL import Image

from mmlowlight.models.enhancers import (DEFAULT_CHECKPOINT, SGZEnhancer,
                                         extract_enhancer_state_dict, infer_enhancer_args)
from mmlowlight.registry import MODELS
from mmlowlight.utils import load_checkpoint_file

__all__ = ['DEFAULT_CHECKPOINT', 'init_enhancer', 'enhance', 'extract_enhancer_state_dict']

ConfigLike = Union[None, str, os.PathLike, Config, Mapping]


def _enhancer_cfg(config: ConfigLike) -> Dict[str, Any]:
    """Find the enhancer's config in a standalone, downstream or enhancer-only config."""
    if config is None:
        return {}
    if isinstance(config, (str, os.PathLike)):
        config = Config.fromfile(str(config))
    cfg = ConfigDict(config.to_dict() if isinstance(config, Config) else dict(config))
    model = cfg.get('model', cfg)
    for candidate in (model, model.get('enhancer'),
                      (model.get('data_preprocessor') or {}).get('enhancer')):
        if isinstance(candidate, Mapping) and str(candidate.get('type', '')).split(
                '.')[-1] == 'SGZEnhancer':
            found = dict(candidate)
            found.pop('type')
            found.pop('_scope_', None)
            return found
    raise ValueError('config holds no SGZEnhancer (looked at model, model.enhancer and '
                     'model.data_preprocessor.enhancer)')


def init_enhancer(config: ConfigLike = None,
                  checkpoint: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu',
                  **overrides: Any) -> SGZEnhancer:
    """Build an :class:`SGZEnhancer`, load weights and put it in eval mode.

    Args:
        config (str | Config | dict, optional): A config file or object holding an
            ``SGZEnhancer`` (as ``model``, ``model.enhancer`` or
            ``model.data_preprocessor.enhancer``). None: architecture read off the checkpoint.
        checkpoint (str, optional): Our checkpoint (any mmengine checkpoint that contains the
            enhancer) or an official SGZ state dict, recognised by its keys. None: the package's
            default weights (:data:`DEFAULT_CHECKPOINT`).
        device (str | torch.device): Where to put the model. Defaults to ``'cpu'``.
        **overrides: Constructor arguments of :class:`SGZEnhancer` that win over the config and
            the checkpoint, e.g. ``scale_factor=12``.

    Returns:
        SGZEnhancer: The model in eval mode on ``device``.
    """
    filename = DEFAULT_CHECKPOINT if checkpoint is None else str(checkpoint)
    if checkpoint is None and not osp.isfile(filename):
        raise FileNotFoundError(
            f'the default weights {filename} are missing from this installation; '
            'pass checkpoint=<path> (ours or the official SGZ Epoch99.pth)')
    state_dict = extract_enhancer_state_dict(load_checkpoint_file(filename), filename)
    args: Dict[str, Any] = infer_enhancer_args(state_dict) if config is None \
        else _enhancer_cfg(config)
    args.update(overrides)
    model = MODELS.build(dict(type='SGZEnhancer', _scope_='mmlowlight', **args))
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        raise RuntimeError(f'{filename} does not fit SGZEnhancer({args}): {exc}') from exc
    return model.to(device).eval()


def _read_rgb(img: Union[str, os.PathLike, np.ndarray]) -> np.ndarray:
    if isinstance(img, (str, os.PathLike)):
        try:
            with Image.open(img) as pil:
                return np.array(pil.convert('RGB'))
        except (OSError, ValueError) as exc:
            raise ValueError(f'{img}: cannot read as an image: {exc}') from exc
    if not (isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3
            and img.shape[2] == 3):
        raise TypeError('expected an image path or an H x W x 3 uint8 RGB array, got '
                        f'{type(img).__name__} {getattr(img, "shape", "")} '
                        f'{getattr(img, "dtype", "")}')
    return img


def enhance(model: SGZEnhancer, img: Union[str, os.PathLike, np.ndarray]) -> np.ndarray:
    """Enhance one image.

    Args:
        model (SGZEnhancer): From :func:`init_enhancer`.
        img (str | PathLike | np.ndarray): An image path, or an H x W x 3 uint8 RGB array.

    Returns:
        np.ndarray: The enhanced H x W x 3 uint8 RGB image (rounded, clamped).
    """
    rgb = _read_rgb(img)
    device = next(model.parameters()).device
    with torch.inference_mode():
        # np.require copies only read-only or non-contiguous arrays (torch warns on those).
        x = torch.from_numpy(np.require(rgb, requirements=['C', 'W'])).to(device)
        x = x.permute(2, 0, 1)[None].float().div_(255)
        out, _ = model(x)
        out = out[0].clamp_(0, 1).mul_(255).round_().to(torch.uint8)
    return out.permute(1, 2, 0).cpu().numpy()
