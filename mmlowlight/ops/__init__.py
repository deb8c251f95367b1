"""Fast CPU inference kernels (numba, onnxruntime), after mmcv's ``ops`` package.

Entry points:

- :func:`enhance_frames` ``(model, frames, bgr=False, factor_transform=None, out=None)``:
  N x H x W x 3 uint8/uint16 frames (RGB, or BGR as OpenCV decodes video) -> enhanced frames of
  the same shape, dtype and channel order, with an ``SGZEnhancer`` on the CPU. A
  ``factor_transform`` sees the low-resolution factor map (transforming it gives the same result
  as transforming the upsampled one). ``mmlowlight.apis.enhance_batch`` calls it automatically
  where :func:`fast_path_unsupported` accepts the model, and falls back to the PyTorch
  reference otherwise.
- :func:`low_res_factor`: the factor map at the EFE's resolution, from integer frames.
- :func:`apply_curve_maps`: the fused full-resolution pass (upsampling of the low-resolution
  factor map and of optional affine maps ``(a, b)``, the curve, rounding, clamping).
- :func:`downscale_frames`: the EFE's thumbnail, straight from the integer frames.
- :func:`efe_forward`, :data:`EFE_BACKENDS`, :func:`default_efe_backend`: the thumbnail EFE
  (in cache-sized tiles, :func:`plan_tiles`).
- Video: :func:`motion_adaptive_step_numba`, one step of the temporal denoiser on 8-bit YUV
  planes; :func:`yuv420_to_rgb` and :func:`rgb_to_yuv420`, the colour conversions around the
  enhancer, exact inverses of each other (swscale's darken by 0.5-1 grey level).

The numba kernels are compiled on first use and cached on disk (:mod:`.jit_cache`).
"""
from .jit_cache import configure_numba_cache

configure_numba_cache()  # before numba is imported

from .downscale import downscale_frames  # noqa: E402
from .efe_runtime import EFE_BACKENDS, default_efe_backend, efe_forward, plan_tiles  # noqa: E402
from .fused_curve import apply_curve_maps  # noqa: E402
from .runtime import enhance_frames, fast_path_unsupported, low_res_factor  # noqa: E402
from .temporal_denoise import motion_adaptive_step_numba  # noqa: E402
from .yuv_rgb import rgb_to_yuv420, yuv420_to_rgb  # noqa: E402

__all__ = [
    'enhance_frames', 'fast_path_unsupported', 'low_res_factor', 'apply_curve_maps',
    'downscale_frames', 'efe_forward', 'plan_tiles', 'EFE_BACKENDS', 'default_efe_backend',
    'configure_numba_cache', 'rgb_to_yuv420', 'yuv420_to_rgb', 'motion_adaptive_step_numba'
]
