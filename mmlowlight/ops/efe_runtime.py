"""The thumbnail EFE on a CPU: onnxruntime, or PyTorch channels-last.

The EFE runs on the 1/scale thumbnail (160 x 90 at 1080p and scale 12), where PyTorch's
per-operator overhead dominates: NCHW convolutions take several times longer than channels-last
ones, and onnxruntime (MLAS kernels, Conv+ReLU fused, no autograd dispatch) is faster still
(``tools/benchmark.py`` prints all three). The ONNX graph is written directly from the weights with
``onnx.helper`` (milliseconds; ``torch.onnx.export`` takes seconds, which the first frame of a CLI
run would pay), checked once against the PyTorch EFE, and its session is cached per model and
thread count; changing the weights in place (``load_state_dict``) invalidates it.
"""
import os
import threading
import warnings
import weakref
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

__all__ = ['EFE_BACKENDS', 'default_efe_backend', 'efe_forward', 'onnx_available',
           'build_efe_onnx']

#: ``'onnxruntime'``: an onnxruntime session of the EFE graph; ``'torch'``: the PyTorch module on
#: a channels-last input; ``'torch-nchw'``: the module as it is (the reference, for benchmarks).
EFE_BACKENDS = ('onnxruntime', 'torch', 'torch-nchw')
#: Environment variable that overrides :func:`default_efe_backend`.
BACKEND_ENV = 'MMLOWLIGHT_EFE_BACKEND'
#: Largest |onnxruntime - PyTorch| accepted when a session is checked against the module.
ONNX_TOLERANCE = 1e-4


def onnx_available() -> bool:
    """Whether ``onnx`` and ``onnxruntime`` can be imported."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def default_efe_backend() -> str:
    """``$MMLOWLIGHT_EFE_BACKEND`` if set, else ``'onnxruntime'`` where it is installed (the
    fastest in ``tools/benchmark.py`` on the thumbnail sizes of scale 12 and 4), else
    ``'torch'``."""
    chosen = os.environ.get(BACKEND_ENV)
    if chosen:
        if chosen not in EFE_BACKENDS:
            raise ValueError(f'{BACKEND_ENV}={chosen!r}; expected one of {EFE_BACKENDS}')
        return chosen
    return 'onnxruntime' if onnx_available() else 'torch'


def _block_nodes(helper, block: nn.Module, name: str, source: str, target: str,
                 initializers: list) -> list:
    """ONNX nodes of one EFE block (depthwise-separable or plain 3x3 conv), no activation."""

    def conv(conv_module: nn.Conv2d, conv_name: str, conv_in: str, conv_out: str):
        weight = conv_module.weight.detach().float().cpu().numpy()
        bias = conv_module.bias.detach().float().cpu().numpy()
        initializers.extend([
            helper.make_tensor(f'{conv_name}.w', 1, weight.shape, weight.tobytes(), raw=True),
            helper.make_tensor(f'{conv_name}.b', 1, bias.shape, bias.tobytes(), raw=True)
        ])
        kernel = conv_module.kernel_size
        pads = list(conv_module.padding) * 2
        return helper.make_node('Conv', [conv_in, f'{conv_name}.w', f'{conv_name}.b'],
                                [conv_out], kernel_shape=list(kernel), pads=pads,
                                group=conv_module.groups)

    if isinstance(block, nn.Conv2d):
        return [conv(block, name, source, target)]
    return [conv(block.depthwise, f'{name}.dw', source, f'{name}.mid'),
            conv(block.pointwise, f'{name}.pw', f'{name}.mid', target)]


def build_efe_onnx(efe: nn.Module) -> bytes:
    """The serialized ONNX model of a ``FactorExtractor`` (input ``small`` (N, 3, h, w), output
    ``factor`` (N, C, h, w); dynamic N, h, w), written from its weights.

    The graph is ``FactorExtractor.forward``: blocks 0-3 chained with ReLU, block 4 on
    ``cat(x3, x4)``, block 5 on ``cat(x2, x5)``, block 6 on ``cat(x1, x6)`` with tanh.
    """
    from onnx import TensorProto, helper
    blocks = list(efe.blocks)
    if len(blocks) != 7:
        raise ValueError(f'expected the 7-block FactorExtractor, got {len(blocks)} blocks')
    nodes, initializers = [], []
    inputs = {0: 'small', 1: 'x1', 2: 'x2', 3: 'x3', 4: 'cat34', 5: 'cat25', 6: 'cat16'}
    for index, block in enumerate(blocks):
        pre = f'pre{index + 1}'
        nodes += _block_nodes(helper, block, f'b{index}', inputs[index], pre, initializers)
        if index < 6:
            nodes.append(helper.make_node('Relu', [pre], [f'x{index + 1}']))
        else:
            nodes.append(helper.make_node('Tanh', [pre], ['factor']))
        if index in (3, 4, 5):  # the concatenation skips, as in FactorExtractor.forward
            skip, deep = {3: ('x3', 'x4'), 4: ('x2', 'x5'), 5: ('x1', 'x6')}[index]
            nodes.append(helper.make_node('Concat', [skip, deep], [inputs[index + 1]], axis=1))
    out_channels = blocks[6].out_channels if isinstance(blocks[6], nn.Conv2d) else \
        blocks[6].pointwise.out_channels
    graph = helper.make_graph(
        nodes, 'sgz_efe',
        [helper.make_tensor_value_info('small', TensorProto.FLOAT, ['n', 3, 'h', 'w'])],
        [helper.make_tensor_value_info('factor', TensorProto.FLOAT,
                                       ['n', out_channels, 'h', 'w'])],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)],
                              producer_name='mmlowlight')
    model.ir_version = 8  # what onnxruntime >= 1.15 reads
    return model.SerializeToString()


def _fingerprint(module: nn.Module) -> Tuple:
    # The storage and version counter of every parameter: in-place updates bump the version.
    return tuple((p.data_ptr(), p._version) for p in module.parameters())


_SESSIONS: 'weakref.WeakKeyDictionary[nn.Module, Dict]' = weakref.WeakKeyDictionary()
_SESSIONS_LOCK = threading.Lock()


def _onnx_session(efe: nn.Module, threads: int) -> Optional[Callable[[np.ndarray], np.ndarray]]:
    """A cached onnxruntime runner of ``efe``, or None where the graph does not reproduce the
    module (another architecture): the caller then uses PyTorch."""
    import onnxruntime
    key = (_fingerprint(efe), threads)
    with _SESSIONS_LOCK:
        cached = _SESSIONS.get(efe)
        if cached is not None and cached['key'] == key:
            return cached['run']
    run = None
    try:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No spinning after a run: the full-resolution pass needs those cores right after.
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(build_efe_onnx(efe), options,
                                               providers=['CPUExecutionProvider'])

        def run(small: np.ndarray) -> np.ndarray:
            return session.run(['factor'], {'small': small})[0]

        probe = torch.rand(1, 3, 5, 7, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            expected = efe(probe.to(next(efe.parameters()).device)).float().cpu().numpy()
        if np.abs(run(probe.numpy()) - expected).max() > ONNX_TOLERANCE:
            raise ValueError('the ONNX graph differs from the module')
    except Exception as exc:  # onnxruntime's errors derive from Exception only
        warnings.warn(f'onnxruntime EFE unavailable for this model ({exc}); using PyTorch')
        run = None
    with _SESSIONS_LOCK:
        _SESSIONS[efe] = dict(key=key, run=run)
    return run


def efe_forward(efe: nn.Module, small: np.ndarray, backend: Optional[str] = None,
                threads: Optional[int] = None) -> torch.Tensor:
    """The EFE's factor map of a thumbnail.

    Args:
        efe (nn.Module): The model's ``FactorExtractor`` (on the CPU).
        small (np.ndarray): (N, 3, h, w) float32 RGB in [0, 1], C-contiguous.
        backend (str, optional): One of :data:`EFE_BACKENDS`; default
            :func:`default_efe_backend`.
        threads (int, optional): Threads for onnxruntime; default ``torch.get_num_threads()``.

    Returns:
        Tensor: (N, C, h, w) float32 in [-1, 1] (contiguous).
    """
    backend = backend or default_efe_backend()
    if backend not in EFE_BACKENDS:
        raise ValueError(f'unknown EFE backend {backend!r}; expected one of {EFE_BACKENDS}')
    if backend == 'onnxruntime':
        run = _onnx_session(efe, threads or torch.get_num_threads())
        if run is not None:
            return torch.from_numpy(run(small))
    x = torch.from_numpy(small)
    with torch.inference_mode():
        if backend != 'torch-nchw':
            x = x.contiguous(memory_format=torch.channels_last)
        return efe(x).float().contiguous()
