"""The EFE as a serialized ONNX model, written from its weights without the ``onnx`` package.

onnxruntime takes a serialized ``ModelProto``. Building one with ``onnx.helper`` means importing
``onnx`` (protobuf and its generated modules: about as long as a third of ``import torch``, which
the first frame of every CLI run would pay), and ``torch.onnx.export`` takes seconds. The graph
here is small and fixed (convolutions, ReLU, concatenations, tanh), so its protobuf encoding is
written directly: a few message types of ``onnx/onnx.proto``, with their field numbers below.
``tests/test_ops/test_onnx_writer.py`` checks the bytes against ``onnx``'s own parser and checker.
"""
from typing import Iterable, List, Sequence, Tuple, Union

import numpy as np
import torch.nn as nn

__all__ = ['efe_model_bytes']

#: Read by onnxruntime >= 1.15; opset 17 has every operator used here.
IR_VERSION = 8
OPSET = 17
_FLOAT = 1  # TensorProto.DataType.FLOAT
_ATTRIBUTE_INT, _ATTRIBUTE_INTS = 2, 7  # AttributeProto.AttributeType


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # int64 fields: negative numbers as 10-byte two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _bytes_field(number: int, value: Union[bytes, str]) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _attribute(name: str, value: Union[int, Sequence[int]]) -> bytes:
    # AttributeProto: name = 1, i = 3, ints = 8, type = 20.
    if isinstance(value, int):
        body = _bytes_field(1, name) + _int_field(3, value) + _int_field(20, _ATTRIBUTE_INT)
    else:
        body = _bytes_field(1, name) + b''.join(_int_field(8, v) for v in value) + _int_field(
            20, _ATTRIBUTE_INTS)
    return _bytes_field(5, body)


def _node(op_type: str, inputs: Iterable[str], outputs: Iterable[str], **attributes) -> bytes:
    # NodeProto: input = 1, output = 2, op_type = 4, attribute = 5.
    body = b''.join(_bytes_field(1, name) for name in inputs)
    body += b''.join(_bytes_field(2, name) for name in outputs)
    body += _bytes_field(4, op_type)
    body += b''.join(_attribute(key, value) for key, value in sorted(attributes.items()))
    return _bytes_field(1, body)  # GraphProto.node = 1


def _initializer(name: str, array: np.ndarray) -> bytes:
    # TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian float32).
    array = np.ascontiguousarray(array, dtype='<f4')
    body = b''.join(_int_field(1, d) for d in array.shape) + _int_field(2, _FLOAT)
    body += _bytes_field(8, name) + _bytes_field(9, array.tobytes())
    return _bytes_field(5, body)  # GraphProto.initializer = 5


def _value_info(number: int, name: str, dims: Sequence[Union[int, str]]) -> bytes:
    # ValueInfoProto{name = 1, type = 2: TypeProto{tensor_type = 1: {elem_type = 1,
    # shape = 2: TensorShapeProto{dim = 1: Dimension{dim_value = 1 | dim_param = 2}}}}}.
    shape = b''.join(
        _bytes_field(1, _int_field(1, d) if isinstance(d, int) else _bytes_field(2, d))
        for d in dims)
    tensor_type = _int_field(1, _FLOAT) + _bytes_field(2, shape)
    return _bytes_field(number, _bytes_field(1, name) + _bytes_field(2, _bytes_field(
        1, tensor_type)))


def _conv(module: nn.Conv2d, name: str, source: str, target: str) -> Tuple[bytes, bytes]:
    """(node, initializers) of a Conv2d with bias."""
    if module.bias is None or module.dilation != (1, 1) or module.stride != (1, 1) or \
            not isinstance(module.padding, tuple) or module.padding_mode != 'zeros':
        raise ValueError(f'{name}: only stride-1, undilated, zero-padded convs with bias')
    weight = module.weight.detach().float().cpu().numpy()
    bias = module.bias.detach().float().cpu().numpy()
    node = _node('Conv', [source, f'{name}.w', f'{name}.b'], [target],
                 kernel_shape=list(module.kernel_size), pads=list(module.padding) * 2,
                 group=module.groups)
    return node, _initializer(f'{name}.w', weight) + _initializer(f'{name}.b', bias)


def efe_model_bytes(efe: nn.Module) -> bytes:
    """The serialized ONNX model of a ``FactorExtractor``: input ``small`` (n, 3, h, w), output
    ``factor`` (n, C, h, w), dynamic n, h, w.

    The graph is ``FactorExtractor.forward``: blocks 0-3 chained with ReLU, block 4 on
    ``cat(x3, x4)``, block 5 on ``cat(x2, x5)``, block 6 on ``cat(x1, x6)`` with tanh. Each
    block is a plain conv or a depthwise-separable pair (``depthwise``, ``pointwise``).

    Raises:
        ValueError: ``efe`` does not have this shape.
    """
    blocks = list(getattr(efe, 'blocks', []))
    if len(blocks) != 7:
        raise ValueError(f'expected the 7-block FactorExtractor, got {len(blocks)} blocks')
    nodes: List[bytes] = []
    initializers: List[bytes] = []
    inputs = ['small', 'x1', 'x2', 'x3', 'cat34', 'cat25', 'cat16']
    skips = {3: ('x3', 'x4'), 4: ('x2', 'x5'), 5: ('x1', 'x6')}
    for index, block in enumerate(blocks):
        pre = f'pre{index + 1}'
        if isinstance(block, nn.Conv2d):
            convs = [(block, f'b{index}', inputs[index], pre)]
        elif isinstance(getattr(block, 'depthwise', None), nn.Conv2d) and isinstance(
                getattr(block, 'pointwise', None), nn.Conv2d) and len(list(block.children())) == 2:
            convs = [(block.depthwise, f'b{index}.dw', inputs[index], f'b{index}.mid'),
                     (block.pointwise, f'b{index}.pw', f'b{index}.mid', pre)]
        else:
            raise ValueError(f'block {index} ({type(block).__name__}) is neither a conv nor a '
                             'depthwise-separable pair')
        for conv in convs:
            node, weights = _conv(*conv)
            nodes.append(node)
            initializers.append(weights)
        nodes.append(_node('Relu', [pre], [f'x{index + 1}']) if index < 6 else
                     _node('Tanh', [pre], ['factor']))
        if index in skips:  # the concatenation skips of FactorExtractor.forward
            nodes.append(_node('Concat', skips[index], [inputs[index + 1]], axis=1))
    out_channels = convs[-1][0].out_channels
    graph = b''.join(nodes) + _bytes_field(2, 'sgz_efe') + b''.join(initializers)
    graph += _value_info(11, 'small', ['n', 3, 'h', 'w'])
    graph += _value_info(12, 'factor', ['n', out_channels, 'h', 'w'])
    # ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8
    # (OperatorSetIdProto: domain = 1, version = 2).
    return (_int_field(1, IR_VERSION) + _bytes_field(2, 'mmlowlight') + _bytes_field(7, graph)
            + _bytes_field(8, _bytes_field(1, '') + _int_field(2, OPSET)))
