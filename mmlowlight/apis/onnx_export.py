"""ONNX export of the SGZ enhancer with dynamic batch, height and width.

``SGZEnhancer.estimate_factor`` picks the official ``scale_factor=1/s`` resize when H and W are
multiples of ``s`` and a size-based one otherwise; a Python branch on the input's shape cannot
stay dynamic in an exported graph. :class:`OnnxEnhancer` therefore always resizes to
``max(1, round(H / s))`` x ``max(1, round(W / s))`` (round half to even, as Python and ONNX's
``Round`` do), which gives the same low-resolution size in both cases and the same result to
float rounding. The exposure control and the denoiser, where the enhancer has them, are part of
the graph (their torch code is written to export with dynamic sizes; the denoiser's
aligned-corners resizing between derived sizes goes through the ``mmlowlight::resize_aligned``
op, translated here to ONNX Resize). onnx, onnxscript and onnxruntime are optional
(``pip install mmlowlight[onnx]``) and imported only here.
"""
import os.path as osp
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmlowlight.models.enhancers import SGZEnhancer, recurrent_enhance
from .image_io import atomic_output

__all__ = ['OnnxEnhancer', 'export_onnx', 'compare_with_onnxruntime']

INPUT_NAME = 'image'
OUTPUT_NAMES = ('enhanced', 'factor')


class OnnxEnhancer(nn.Module):
    """An :class:`SGZEnhancer` written with shape-independent control flow for export.

    Args:
        enhancer (SGZEnhancer): The model to export (its weights are shared, not copied).

    Inputs: ``image`` float32 (N, 3, H, W) RGB in [0, 1]. Outputs: ``enhanced`` (N, 3, H, W)
    and ``factor`` (N, C, H, W) in [-1, 1], as ``SGZEnhancer.forward``.
    """

    def __init__(self, enhancer: SGZEnhancer) -> None:
        super().__init__()
        self.enhancer = enhancer

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        height, width = x.shape[-2:]
        enhancer = self.enhancer
        scale = enhancer.scale_factor
        if scale == 1:
            small = x
        else:
            size = (torch.sym_max(1, round(height / scale)),
                    torch.sym_max(1, round(width / scale)))
            small = F.interpolate(x, size=size, mode='bilinear')
        # The exposure control and the denoiser, where configured, as in SGZEnhancer.forward.
        light = enhancer.scene_light(x)
        factor_low = enhancer.refined_factor(small, light)
        factor = factor_low if scale == 1 else F.interpolate(
            factor_low, size=(height, width), mode='bilinear', align_corners=True)
        x = enhancer.curve_input(x, small, factor_low, light)
        return recurrent_enhance(x, factor, enhancer.num_iterations), factor


def _onnx_round(x, ndigits=None):
    """ONNX translation of Python's ``round`` on a symbolic size (half to even, to int64)."""
    from onnxscript import INT64
    from onnxscript import opset18 as op
    return op.Cast(op.Round(x), to=INT64.dtype)


def _onnx_resize_aligned(x, like):
    """ONNX translation of ``mmlowlight::resize_aligned``: ``x`` to ``like``'s H x W.

    The Resize that the exporter emits for ``F.interpolate(..., mode='bilinear',
    align_corners=True)``.
    """
    from onnxscript import opset18 as op
    size = op.Concat(op.Shape(x, start=0, end=2), op.Shape(like, start=2), axis=0)
    return op.Resize(x, None, None, size, mode='linear',
                     coordinate_transformation_mode='align_corners', nearest_mode='floor')


def export_onnx(enhancer: SGZEnhancer, path: str, opset_version: int = 18,
                example_size: Tuple[int, int] = (48, 72)) -> str:
    """Export ``enhancer`` to ``path`` with dynamic batch, height and width.

    The whole pipeline is exported: the EFE, the exposure control and the denoiser where the
    enhancer has them, and the curve.

    Args:
        enhancer (SGZEnhancer): The model (its ``scale_factor`` is baked into the graph).
        path (str): Output ``.onnx`` file (written to a temporary file, then renamed).
        opset_version (int): ONNX opset. Defaults to 18.
        example_size (tuple[int, int]): H, W of the tracing example (any size works).

    Returns:
        str: ``path``.
    """
    translations = {round: _onnx_round}
    if hasattr(torch.ops.mmlowlight, 'resize_aligned'):
        # The denoiser's aligned-corners resizing between derived sizes (see
        # noise_adaptive_guided_filter._resize).
        translations[torch.ops.mmlowlight.resize_aligned.default] = _onnx_resize_aligned
    module = OnnxEnhancer(enhancer).eval()
    example = torch.rand(1, 3, *example_size, device=next(enhancer.parameters()).device)
    dims = {2: torch.export.Dim('height', min=1, max=16384),
            3: torch.export.Dim('width', min=1, max=16384),
            0: torch.export.Dim('batch', min=1, max=1024)}
    with atomic_output(path) as temporary, torch.no_grad():
        program = torch.onnx.export(
            module, (example,), dynamo=True, opset_version=opset_version,
            input_names=[INPUT_NAME], output_names=list(OUTPUT_NAMES),
            dynamic_shapes={'x': dims}, custom_translation_table=translations,
            verbose=False)
        program.save(temporary)
    return path


def compare_with_onnxruntime(enhancer: SGZEnhancer, path: str,
                             sizes: Sequence[Tuple[int, int, int]] = ((1, 48, 72), (2, 30, 18),
                                                                      (1, 1, 1), (1, 37, 61)),
                             seed: int = 0) -> float:
    """Largest absolute difference between onnxruntime's and PyTorch's outputs.

    The inputs are random pixels darkened by a random level per image (in [0.05, 0.5]): dark
    and noisy, so the exposure control brightens them and the denoiser works on them (on
    well-lit images both are the identity, which would compare nothing).

    Args:
        enhancer (SGZEnhancer): The exported model.
        path (str): The ``.onnx`` file.
        sizes: (N, H, W) of random inputs to compare on; include sizes that are not multiples
            of ``scale_factor`` (and of the denoiser's ``scale``).
        seed (int): Seed of the random inputs.

    Returns:
        float: max |onnx - torch| over both outputs and all sizes.
    """
    import onnxruntime
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such ONNX file')
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for n, h, w in sizes:
        level = 0.05 + 0.45 * torch.rand(n, 1, 1, 1, generator=generator)
        x = torch.rand(n, 3, h, w, generator=generator) * level
        with torch.inference_mode():
            expected = [t.cpu().numpy() for t in enhancer(x.to(
                next(enhancer.parameters()).device))]
        got = session.run(list(OUTPUT_NAMES), {INPUT_NAME: x.numpy()})
        for a, b in zip(got, expected):
            if a.shape != b.shape:
                raise ValueError(f'{path}: output shape {a.shape} differs from PyTorch\'s '
                                 f'{b.shape} for input {(n, 3, h, w)}')
            worst = max(worst, float(np.abs(a - b).max()))
    return worst
