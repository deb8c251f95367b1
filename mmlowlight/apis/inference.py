"""High-level inference API: build an enhancer and enhance images."""
import logging
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from PIL import Image
from torch import Tensor

from mmlowlight.models.enhancers import (DEFAULT_CHECKPOINT, OFFICIAL_SCALE_FACTOR, SGZEnhancer,
                                         extract_enhancer_state_dict)
from mmlowlight.models.enhancers.pipeline_config import build_enhancer
from mmlowlight.utils import CheckpointNotFoundError, resolve_device
from .image_io import decode_pil_image, read_image

__all__ = [
    'DEFAULT_CHECKPOINT', 'OFFICIAL_SCALE_FACTOR', 'init_enhancer', 'enhance', 'enhance_batch',
    'fast_path_unsupported', 'extract_enhancer_state_dict', 'enhancer_args_from_config',
    'to_model_input', 'from_model_output'
]

ConfigLike = Union[None, str, os.PathLike, Config, Mapping]


def enhancer_args_from_config(config: ConfigLike) -> Dict[str, Any]:
    """The ``SGZEnhancer`` constructor arguments a config holds.

    Args:
        config (str | Config | dict, optional): A standalone (``model.enhancer``), downstream
            (``model.data_preprocessor.enhancer``) or enhancer-only (``model``) config.

    Returns:
        dict: The arguments without ``type``/``_scope_``; ``{}`` for ``config=None``.

    Raises:
        ValueError: The config holds no ``SGZEnhancer``.
    """
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
            ``model.data_preprocessor.enhancer``), whose keys override the pipeline the
            checkpoint records (``denoiser=None`` turns the denoiser off). None: that pipeline
            as it is: the architecture read off the weights plus the arguments in
            ``meta['enhancer']`` (``scale_factor``, exposure control, denoiser); official SGZ
            state dicts run at the official ``scale_factor=12``.
        checkpoint (str, optional): Our checkpoint (any mmengine checkpoint that contains the
            enhancer) or an official SGZ state dict, recognised by its keys. None: the package's
            default weights (:data:`DEFAULT_CHECKPOINT`).
        device (str | torch.device): Where to put the model. Defaults to ``'cpu'``.
        **overrides: Constructor arguments of :class:`SGZEnhancer` that win over the config and
            the checkpoint, e.g. ``scale_factor=12``.

    The model's ``pipeline_description`` says which pipeline was built and from what (also
    logged at DEBUG level).

    Returns:
        SGZEnhancer: The model in eval mode on ``device``.

    Raises:
        CheckpointError: The checkpoint is missing, not a checkpoint, truncated, unsafe, holds
            no enhancer weights or weights of another architecture; one line naming the file
            (see :mod:`mmlowlight.utils.checkpoint` for the subclasses).
        DeviceNotAvailableError: ``device`` does not exist here (the message lists those that
            do).
    """
    device = resolve_device(device)  # before any loading: a typo fails fast
    filename = DEFAULT_CHECKPOINT if checkpoint is None else str(checkpoint)
    if checkpoint is None and not osp.isfile(filename):
        raise CheckpointNotFoundError(
            filename, 'the default weights are missing from this installation; pass '
            'checkpoint=<path> (ours or the official SGZ Epoch99.pth)')
    # The rule every enhancer builder follows: the checkpoint's recorded pipeline (ours record
    # e.g. scale_factor, the exposure control and the denoiser), the config's keys over it.
    configured = enhancer_args_from_config(config)
    configured.update(overrides)
    model, _, description = build_enhancer(dict(type='SGZEnhancer', **configured), filename)
    model.pipeline_description = description
    print_log(f'init_enhancer: {description}', logger='current', level=logging.DEBUG)
    return model.to(device).eval()


ImageInput = Union[str, os.PathLike, Image.Image, np.ndarray]
#: What :func:`enhance` takes, for its error message.
_ACCEPTED = ('an image path (str or pathlib.Path), a PIL image, an H x W x 3 uint8/uint16 RGB '
             'array, a list or tuple of those, or an N x H x W x 3 array')
_DTYPES = (np.uint8, np.uint16)


def _check_array(img: np.ndarray, ndim: int) -> np.ndarray:
    if not (isinstance(img, np.ndarray) and img.dtype in _DTYPES and img.ndim == ndim
            and img.shape[-1] == 3):
        layout = 'H x W x 3' if ndim == 3 else 'N x H x W x 3'
        raise TypeError(f'expected an image path or an {layout} uint8 RGB array (uint16 for '
                        f'16-bit), got {type(img).__name__} {getattr(img, "shape", "")} '
                        f'{getattr(img, "dtype", "")}')
    return img


def _load(img: ImageInput) -> np.ndarray:
    if isinstance(img, (str, os.PathLike)):
        return read_image(str(img)).rgb
    if isinstance(img, Image.Image):
        return decode_pil_image(img).rgb
    if isinstance(img, np.ndarray):
        return _check_array(img, 3)
    raise TypeError(f'enhance() got a {type(img).__name__}; it takes {_ACCEPTED}')


def _swap_red_blue(batch: np.ndarray) -> np.ndarray:
    """RGB <-> BGR of an N x H x W x 3 array in one OpenCV call (a new array)."""
    n, h, w, _ = batch.shape
    flat = np.ascontiguousarray(batch).reshape(n * h, w, 3)
    return cv2.cvtColor(flat, cv2.COLOR_BGR2RGB).reshape(n, h, w, 3)


def to_model_input(batch: np.ndarray, device: Union[str, torch.device],
                   bgr: bool = False) -> Tensor:
    """N x H x W x 3 uint8/uint16 RGB (or BGR) -> a new float32 (N, 3, H, W) RGB tensor in
    [0, 1], channels-last in memory (one conversion pass; the enhancer's resizing runs several
    times faster on channels-last tensors on a CPU)."""
    scale = float(np.iinfo(batch.dtype).max)
    if bgr:
        batch = _swap_red_blue(batch)
    if batch.dtype == np.uint16:  # torch has few uint16 kernels
        batch = batch.astype(np.int32)
    # np.require copies only read-only or non-contiguous arrays (torch warns on those).
    src = torch.from_numpy(np.require(batch, requirements=['C', 'W'])).to(device)
    return src.float().div_(scale).permute(0, 3, 1, 2)


def from_model_output(out: Tensor, dtype: np.dtype = np.uint8, bgr: bool = False) -> np.ndarray:
    """Float (N, 3, H, W) RGB in [0, 1] -> contiguous N x H x W x 3 ``dtype`` RGB (or BGR),
    rounded and clamped (``out`` is modified in place)."""
    dtype = np.dtype(dtype)
    out = out.clamp_(0, 1).mul_(float(np.iinfo(dtype).max)).round_()
    nhwc = out.permute(0, 2, 3, 1)  # a free view when ``out`` is channels-last
    nhwc = nhwc.to(torch.uint8 if dtype == np.uint8 else torch.int32,
                   memory_format=torch.contiguous_format)
    result = nhwc.cpu().numpy().astype(dtype, copy=False)
    return _swap_red_blue(result) if bgr else result


def _ops():
    """:mod:`mmlowlight.ops`, imported on first use: numba and onnxruntime take a while to
    import, which training and the other tools that import this package need not pay."""
    from mmlowlight import ops
    return ops


def fast_path_unsupported(model: SGZEnhancer) -> Optional[str]:
    """Why :func:`enhance_batch` runs ``model`` through the PyTorch reference rather than the
    fast CPU runtime (:func:`mmlowlight.ops.enhance_frames`), or None when it uses the runtime.

    The runtime runs ``SGZEnhancer`` itself (or a subclass that keeps its ``forward`` and
    ``estimate_factor``) in eval mode on the CPU, with float32 weights and no denoiser.
    """
    if not isinstance(model, SGZEnhancer):
        return f'{type(model).__name__} is not an SGZEnhancer'
    for name in ('forward', 'estimate_factor', 'downscale'):
        if getattr(type(model), name) is not getattr(SGZEnhancer, name):
            return f'{type(model).__name__} overrides SGZEnhancer.{name}'
    return _ops().fast_path_unsupported(model)


def enhance_batch(model: SGZEnhancer, batch: np.ndarray, bgr: bool = False,
                  fast: Optional[bool] = None,
                  light_transform: Optional[Callable[[np.ndarray], np.ndarray]] = None
                  ) -> np.ndarray:
    """Enhance equally sized images in one pass.

    On the CPU this runs the fused runtime of :mod:`mmlowlight.ops` (integer frame to integer
    frame; within 1 grey level of the reference, at a fraction of its time and memory); on a
    GPU, in training mode or for configurations the runtime does not cover (see
    :func:`fast_path_unsupported`) it runs ``model.forward`` under ``torch.inference_mode``,
    the reference.

    Args:
        model (SGZEnhancer): From :func:`init_enhancer`.
        batch (np.ndarray): N x H x W x 3, uint8 or uint16, RGB (BGR with ``bgr=True``).
        bgr (bool): Channel order of ``batch``; the result has the same order.
        fast (bool, optional): None (default): the fast runtime wherever it applies; False:
            always the PyTorch reference; True: the fast runtime, or ValueError naming the
            reason where it does not apply.
        light_transform (callable, optional): Applied to the images' night-level weights
            (``model.scene_light``, (N,) float32 in [0, 1]) before they set the exposure, e.g.
            :class:`~mmlowlight.apis.video.NightLevelSmoother` over a video's frames; not
            called for a model without a night level.

    Returns:
        np.ndarray: The enhanced batch, same shape, dtype and channel order.
    """
    batch = _check_array(batch, 4)
    if fast is not False:
        reason = fast_path_unsupported(model)
        if reason is None:
            return _ops().enhance_frames(model, batch, bgr=bgr, light_transform=light_transform)
        if fast:
            raise ValueError(f'the fast CPU runtime cannot run this model: {reason}')
    device = next(model.parameters()).device
    with torch.inference_mode():
        x = to_model_input(batch, device, bgr=bgr)
        scene_light = getattr(model, 'scene_light', None)
        light = scene_light(x) if light_transform is not None and scene_light else None
        if light is None:
            out, _ = model(x)
        else:
            light = np.asarray(light_transform(light.float().cpu().numpy()), np.float32)
            out, _ = model(x, light=torch.from_numpy(light).to(device))
        return from_model_output(out, batch.dtype, bgr=bgr)


def enhance(model: SGZEnhancer,
            img: Union[ImageInput, Sequence[ImageInput]],
            batch_size: int = 4,
            fast: Optional[bool] = None) -> Union[np.ndarray, List[np.ndarray]]:
    """Enhance an image, a list of images or a batch.

    Args:
        model (SGZEnhancer): From :func:`init_enhancer`.
        img: An image path (``str`` or ``pathlib.Path``), a PIL image (decoded as files are:
            RGB, grey ``L``, ``RGBA``, 16-bit ``I;16``...) or an H x W x 3 RGB array (uint8, or
            uint16 for 16-bit images); a list or tuple of those (consecutive images of equal
            size and depth share a forward pass, up to ``batch_size``); or an N x H x W x 3
            array.
        batch_size (int): Most images per forward pass for lists. Defaults to 4.
        fast (bool, optional): As in :func:`enhance_batch`: None uses the fast CPU runtime
            wherever it applies, False the PyTorch reference.

    Returns:
        np.ndarray | list[np.ndarray]: Enhanced RGB image(s), each the size and dtype of its
        input (paths: uint8, or uint16 for 16-bit files; grey files come back as 3 equal
        channels; EXIF orientation applied; alpha dropped — see :mod:`.image_io` to keep it).
    """
    if isinstance(img, np.ndarray) and img.ndim == 4:
        return enhance_batch(model, img, fast=fast)
    if isinstance(img, (str, os.PathLike, Image.Image, np.ndarray)):
        return enhance_batch(model, _load(img)[None], fast=fast)[0]
    if not isinstance(img, (list, tuple)):
        raise TypeError(f'enhance() got a {type(img).__name__}; it takes {_ACCEPTED}')
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    arrays = [_load(item) for item in img]
    results: List[np.ndarray] = []
    start = 0
    while start < len(arrays):
        key = (arrays[start].shape, arrays[start].dtype)
        stop = start + 1
        while (stop < len(arrays) and stop - start < batch_size
               and (arrays[stop].shape, arrays[stop].dtype) == key):
            stop += 1
        results.extend(enhance_batch(model, np.stack(arrays[start:stop]), fast=fast))
        start = stop
    return results
