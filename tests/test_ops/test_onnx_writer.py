import numpy as np
import pytest
import torch

from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.ops.onnx_writer import _varint, efe_model_bytes


@pytest.mark.parametrize('conv_type', ['dsc', 'conv'])
@pytest.mark.parametrize('shared_factor', [True, False])
def test_onnx_parses_and_checks_the_bytes(conv_type, shared_factor):
    onnx = pytest.importorskip('onnx')
    model = SGZEnhancer(conv_type=conv_type, shared_factor=shared_factor, channels=8)
    proto = onnx.load_from_string(efe_model_bytes(model.efe))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.ir_version == 8 and proto.opset_import[0].version == 17
    graph = proto.graph
    assert [i.name for i in graph.input] == ['small'] and [o.name for o in graph.output] == [
        'factor']
    dims = [d.dim_value or d.dim_param for d in graph.output[0].type.tensor_type.shape.dim]
    assert dims == ['n', 3 if shared_factor else 24, 'h', 'w']
    ops = [node.op_type for node in graph.node]
    assert ops.count('Conv') == (14 if conv_type == 'dsc' else 7) and ops.count('Concat') == 3
    assert ops.count('Relu') == 6 and ops[-1] == 'Tanh'
    weight = next(t for t in graph.initializer if t.name == 'b0.pw.w' or t.name == 'b0.w')
    expected = (model.efe.blocks[0].pointwise if conv_type == 'dsc' else
                model.efe.blocks[0]).weight.detach().numpy()
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(weight), expected)


def test_onnxruntime_runs_the_bytes_like_torch():
    onnxruntime = pytest.importorskip('onnxruntime')
    torch.manual_seed(0)
    model = SGZEnhancer().eval()
    session = onnxruntime.InferenceSession(efe_model_bytes(model.efe),
                                           providers=['CPUExecutionProvider'])
    for shape in ((1, 3, 1, 1), (2, 3, 9, 16)):
        x = torch.rand(shape)
        with torch.no_grad():
            expected = model.efe(x).numpy()
        got = session.run(['factor'], {'small': x.numpy()})[0]
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_varint_encoding():
    assert _varint(1) == b'\x01' and _varint(300) == b'\xac\x02'
    assert _varint(-1) == b'\xff' * 9 + b'\x01'  # int64 two's complement, 10 bytes


def test_unknown_blocks_are_refused():
    model = SGZEnhancer()
    model.efe.blocks[2] = torch.nn.Sequential(torch.nn.Conv2d(32, 32, 3, padding=1))
    with pytest.raises(ValueError, match='block 2'):
        efe_model_bytes(model.efe)
    strided = SGZEnhancer()
    strided.efe.blocks[0] = torch.nn.Conv2d(3, 32, 3, stride=2, padding=1)
    with pytest.raises(ValueError, match='stride-1'):
        efe_model_bytes(strided.efe)
    with pytest.raises(ValueError, match='7-block'):
        efe_model_bytes(torch.nn.Conv2d(3, 3, 1))
