"""The CPU inference runtime of ``SGZEnhancer``: integer frames in, integer frames out.

``SGZEnhancer.forward`` (the reference) converts the whole frame to float, resizes it, runs the
EFE, upsamples the factor map to a full-resolution float tensor and runs the curve on it; every
step is a pass over main memory. Here only the thumbnail is ever float:

1. :func:`~mmlowlight.ops.downscale.downscale_frames` reads the 2 x 2 pixels per thumbnail pixel
   that ``SGZEnhancer.downscale`` samples, straight from the uint8/uint16 frame;
2. the EFE runs on the thumbnail (:func:`~mmlowlight.ops.efe_runtime.efe_forward`: onnxruntime
   or PyTorch), then the model's own ``refine_low_res_factor`` (thumbnail-sized; for the stock
   ``CurveExposureControl`` its numba version, :mod:`~mmlowlight.ops.low_res_kernels`),
   with the gain before the curve where the exposure control has a ``gain_share`` (folded into
   the denoiser's maps: ``x' = a x_mid + c x + b`` of the gained frame is ``(g a) x_mid +
   (g c) x + b``, its statistics those of the frame times ``g``; the curve pass rolls off
   the highlights);
3. :func:`~mmlowlight.ops.fused_curve.apply_curve_maps` upsamples the low-resolution factor map
   and runs the curve, rounding and clamping, in one multi-threaded pass, integer to integer.

The output differs from the reference by float rounding only (at most 1 grey level, in very few
pixels). Extra memory is the output frame plus thumbnail-sized buffers.
"""
from typing import Callable, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from mmlowlight.utils import release_free_memory, worker_pool
from .denoise_statistics import denoiser_affine_maps, fold_gain, frame_statistics
from .downscale import downscale_frames
from .efe_runtime import ACTIVATION_BYTES_PER_PIXEL, efe_forward
from .fused_curve import apply_curve_maps
from .light_sources import light_weights
from .low_res_kernels import (STOCK_EXPOSURE_CONTROL, STOCK_REFINE, exposure_controlled_factor,
                              exposure_gain, is_stock)

__all__ = ['fast_path_unsupported', 'low_res_factor', 'enhance_frames']

#: Bound on the EFE's activation memory, in units of one input frame: with the output frame,
#: the peak extra memory stays under 2 frames (issue 13: at most 2x the input at 4K). Measured at
#: 3840 x 2160 (fresh-process probes): 0.6 gave 1.54-2.06x, 0.52 1.46-1.65x, 0.45 1.29-1.49x; the
#: frame's time did not differ measurably between the three (62.9-66.7 ms, one interleaved run).
MEMORY_BUDGET = 0.52
#: Thumbnails whose EFE activations take less than this are not bounded by MEMORY_BUDGET.
UNBANDED_BYTES = 32 << 20

_REQUIRED = ('efe', 'scale_factor', 'num_iterations', 'downscale', 'refine_low_res_factor')
#: What a denoiser needs for :func:`~.denoise_statistics.denoiser_affine_maps` (the
#: ``NoiseAdaptiveGuidedFilter`` interface): its affine maps then ride in the curve pass.
_DENOISER_API = ('coefficients', 'scale', 'noise_row_step', 'edge_cut', 'mean_abs_to_sigma',
                 'detail_radius')
#: Detail windows the fused curve pass implements: none, and the 3 x 3 mean.
_DETAIL_RADII = (0, 1)


def fast_path_unsupported(model: torch.nn.Module) -> Optional[str]:
    """Why :func:`enhance_frames` cannot run ``model``, or None when it can.

    It runs an ``SGZEnhancer``-like model (``efe``, ``scale_factor``, ``num_iterations``,
    ``downscale``, ``refine_low_res_factor``) in eval mode with float32 parameters on the CPU,
    without a ``denoiser`` or with one that computes low-resolution affine maps
    (``NoiseAdaptiveGuidedFilter``, ``detail_radius`` 0 or 1). Callers also check that the
    model's class does not override ``forward``/``estimate_factor`` (see
    :func:`mmlowlight.apis.enhance_batch`).
    """
    missing = [name for name in _REQUIRED if not hasattr(model, name)]
    if missing:
        return f'{type(model).__name__} has no {", ".join(missing)}'
    if model.training:
        return 'the model is in training mode'
    denoiser = getattr(model, 'denoiser', None)
    if denoiser is not None and not all(hasattr(denoiser, name) for name in _DENOISER_API):
        return (f'the model has a full-resolution denoiser ({type(denoiser).__name__}) without '
                f'low-resolution affine coefficients')
    if denoiser is not None and denoiser.detail_radius not in _DETAIL_RADII:
        return (f'the denoiser\'s detail_radius is {denoiser.detail_radius} (the fast path '
                f'implements {_DETAIL_RADII})')
    for param in model.parameters():
        if param.device.type != 'cpu':
            return f'the model is on {param.device}'
        if param.dtype != torch.float32:
            return f'the model has {param.dtype} parameters'
    return None


def _reverse_channels(maps: np.ndarray) -> np.ndarray:
    """RGB <-> BGR of (N, 3 * S, h, w) maps, within each group of 3 channels."""
    n, channels, height, width = maps.shape
    grouped = maps.reshape(n, channels // 3, 3, height, width)[:, :, ::-1]
    return np.ascontiguousarray(grouped).reshape(n, channels, height, width)


def low_res_factor(model: torch.nn.Module, frames: np.ndarray, bgr: bool = False,
                   backend: Optional[str] = None, threads: Optional[int] = None) -> Tensor:
    """The factor map of ``model`` at the EFE's resolution, from integer frames.

    ``downscale`` -> EFE -> ``model.refine_low_res_factor``: what ``SGZEnhancer.estimate_factor``
    computes before it upsamples.

    Args:
        model (SGZEnhancer): On the CPU, in eval mode.
        frames (np.ndarray): N x H x W x 3 uint8/uint16, RGB (BGR with ``bgr=True``).
        bgr (bool): Channel order of ``frames``.
        backend (str, optional): EFE backend (see :data:`~mmlowlight.ops.EFE_BACKENDS`).
        threads (int, optional): EFE tiles run at once; default ``torch.get_num_threads()``.

    Returns:
        Tensor: (N, C, h, w) float32 in [-1, 1], RGB channel order, C = 3 or
        3 * num_iterations.
    """
    return _refine_low_res_factor(model, *_efe_factor(model, frames, bgr, backend, threads),
                                  _scene_light(model, frames, bgr))


def _efe_factor(model: torch.nn.Module, frames: np.ndarray, bgr: bool, backend: Optional[str],
                threads: Optional[int], spin: bool = True) -> Tuple[np.ndarray, Tensor]:
    """The EFE's input (N, 3, h, w) RGB and its raw factor map (``spin``: see
    :func:`~mmlowlight.ops.efe_runtime.efe_forward`)."""
    small = downscale_frames(frames, model.scale_factor, bgr=bgr)
    # Large thumbnails run with at most MEMORY_BUDGET x one frame of EFE activations in flight,
    # whose freed pages go back to the system before the output frame is allocated (the worker
    # threads' malloc arenas keep them otherwise); small ones (1080p at scale 12: 18 MB) with
    # cache-sized tiles only.
    max_pixels = None
    if small[0].size // 3 * ACTIVATION_BYTES_PER_PIXEL > UNBANDED_BYTES:
        frame_bytes = frames.nbytes // frames.shape[0]
        max_pixels = int(MEMORY_BUDGET * frame_bytes / ACTIVATION_BYTES_PER_PIXEL)
    factor = efe_forward(model.efe, small, backend=backend, threads=threads,
                         max_pixels=max_pixels, spin=spin)
    if max_pixels is not None:
        release_free_memory()
    return small, factor


def _scene_light(model: torch.nn.Module, frames: np.ndarray, bgr: bool
                 ) -> Optional[np.ndarray]:
    """``model.scene_light`` (N,) of the frames, None where the model has no night level; by
    the integer kernel for the stock ``CurveExposureControl``."""
    control = getattr(model, 'exposure_control', None)
    if getattr(control, 'light_level', None) is None:
        return None
    if is_stock(control, STOCK_EXPOSURE_CONTROL):
        return light_weights(control, frames)
    rgb = np.ascontiguousarray(frames[..., ::-1] if bgr else frames)
    with torch.inference_mode():
        x = torch.from_numpy(rgb).float().div_(float(np.iinfo(frames.dtype).max))
        return model.scene_light(x.permute(0, 3, 1, 2)).float().numpy()


def _input_gain(model: torch.nn.Module, small: np.ndarray, light: Optional[np.ndarray]
                ) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """``model.input_gain`` (N,) of the EFE's input and the exposure control's
    ``black_point`` (N,); None without a gain before the curve, and the black point None where
    there is none."""
    if not getattr(model, 'has_input_gain', False):
        return None, None
    control = model.exposure_control
    if is_stock(control, STOCK_EXPOSURE_CONTROL):
        gain, black = exposure_gain(control, small, light)
        return gain, (black if black.any() else None)
    # The light weights only where there are any: overrides written before them take one
    # argument (likewise refine_low_res_factor's two below).
    args = (torch.from_numpy(small),) + (() if light is None else (torch.from_numpy(light),))
    with torch.inference_mode():
        gain = model.input_gain(*args).float().flatten().numpy()
        black = None
        if light is not None and hasattr(control, 'black_point'):
            black = control.black_point(*args).float().flatten().numpy()
    return gain, (black if black is not None and black.any() else None)


def _refine_low_res_factor(model: torch.nn.Module, small: np.ndarray, factor: Tensor,
                           light: Optional[np.ndarray]) -> Tensor:
    """``model.refine_low_res_factor``; by the numba kernels for the stock
    ``CurveExposureControl`` (the PyTorch code is dispatch-bound at thumbnail size)."""
    control = getattr(model, 'exposure_control', None)
    if is_stock(control, STOCK_EXPOSURE_CONTROL) and \
            is_stock(type(model).refine_low_res_factor, STOCK_REFINE):
        return torch.from_numpy(exposure_controlled_factor(
            control, small, factor.float().numpy(), model.num_iterations, light))
    args = (torch.from_numpy(small), factor) + (
        () if light is None else (torch.from_numpy(light),))
    with torch.inference_mode():
        return model.refine_low_res_factor(*args).float()


def enhance_frames(model: torch.nn.Module,
                   frames: np.ndarray,
                   bgr: bool = False,
                   factor_transform: Optional[Callable[[Tensor], Tensor]] = None,
                   out: Optional[np.ndarray] = None,
                   backend: Optional[str] = None,
                   threads: Optional[int] = None,
                   light_transform: Optional[Callable[[np.ndarray], np.ndarray]] = None
                   ) -> np.ndarray:
    """Enhance integer frames with an ``SGZEnhancer`` on the CPU, in one full-resolution pass.

    The entry point for video and batch code (``mmlowlight.apis.enhance_batch`` calls it for
    every model that :func:`fast_path_unsupported` accepts).

    Args:
        model (SGZEnhancer): On the CPU, in eval mode (see :func:`fast_path_unsupported`).
        frames (np.ndarray): N x H x W x 3 uint8 or uint16 frames, any H, W >= 1, RGB (BGR with
            ``bgr=True``, as OpenCV decodes video).
        bgr (bool): Channel order of ``frames`` (the output has the same order).
        factor_transform (callable, optional): Applied to the low-resolution factor map
            (N, C, h, w) RGB before it is upsampled, e.g. a smoothing of the factor map over
            frames (a linear filter gives the same result on the low-resolution map as on the
            upsampled one).
        out (np.ndarray, optional): Where to write the result (``frames``' shape and dtype,
            contiguous); may be ``frames`` itself, for no extra frame of memory.
        backend (str, optional): EFE backend; default
            :func:`~mmlowlight.ops.default_efe_backend`.
        threads (int, optional): Threads of the full-resolution pass (default
            ``torch.get_num_threads()``) and of the EFE's tiles (the same).
        light_transform (callable, optional): Applied to the frames' night-level weights
            (N,) float32 before they set the exposure (see ``model.scene_light``), e.g. a
            smoothing over frames; not called where the model has no night level.

    Returns:
        np.ndarray: The enhanced frames, shape, dtype and channel order of ``frames``.
    """
    if not (isinstance(frames, np.ndarray) and frames.ndim == 4 and frames.shape[-1] == 3
            and frames.dtype in (np.uint8, np.uint16) and frames.shape[1] >= 1
            and frames.shape[2] >= 1):
        raise TypeError(f'frames must be an N x H x W x 3 uint8/uint16 array, got '
                        f'{getattr(frames, "shape", type(frames).__name__)} '
                        f'{getattr(frames, "dtype", "")}')
    reason = fast_path_unsupported(model)
    if reason:
        raise ValueError(f'enhance_frames cannot run this model: {reason}')
    threads = threads or torch.get_num_threads()
    denoiser = getattr(model, 'denoiser', None)
    statistics = light_job = None
    has_light_rule = getattr(getattr(model, 'exposure_control', None), 'light_level',
                             None) is not None
    if threads > 1 and (denoiser is not None or has_light_rule):
        # The light sources and the denoiser's full-resolution statistics need only the
        # frames: on a worker while the EFE runs, whose threads leave the cores partly idle
        # (1080p: 9.7 against 11.7 ms).
        pool = worker_pool(1, 'mmlowlight-statistics')
        light_job = pool.submit(_scene_light, model, frames, bgr)
        if denoiser is not None:
            statistics = pool.submit(frame_statistics, denoiser, frames, bgr, 1)
    # Spinning EFE threads would take the worker's core while it computes.
    small, factor = _efe_factor(model, frames, bgr, backend, threads, spin=light_job is None)
    light = _scene_light(model, frames, bgr) if light_job is None else light_job.result()
    if light is not None and light_transform is not None:
        light = np.asarray(light_transform(light), np.float32)
    factor = _refine_low_res_factor(model, small, factor, light)
    gain, black = _input_gain(model, small, light)
    if factor_transform is not None:
        factor = factor_transform(factor)
    affine = None
    if denoiser is not None:
        affine = denoiser_affine_maps(
            denoiser, frames, factor, model.num_iterations, bgr=bgr, threads=threads,
            statistics=None if statistics is None else statistics.result(), gain=gain,
            black=black)
    elif gain is not None:  # no denoiser: identity maps (a = 1, b = 0) carry the gain
        n = frames.shape[0]
        affine = fold_gain((np.ones((n, 3, 1, 1), np.float32), np.zeros((n, 3, 1, 1), np.float32)),
                           gain, black)
    factor = factor.numpy()
    if bgr:
        factor = _reverse_channels(factor)
    rolloff = None
    if gain is not None:
        control = model.exposure_control
        rolloff = (control.knee, control.rolloff_rate(torch.from_numpy(gain)).numpy())
    return apply_curve_maps(frames, factor, model.num_iterations, affine=affine,
                            threads=threads, out=out, rolloff=rolloff)
