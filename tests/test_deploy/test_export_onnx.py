import os.path as osp
import sys

import numpy as np
import pytest
import torch

from mmlowlight.apis import init_enhancer
from mmlowlight.models.enhancers import SGZEnhancer
from tests.conftest import REPO_ROOT
from tests.enhancer_helpers import night_street

pytest.importorskip('onnxruntime')
pytest.importorskip('onnxscript')

sys.path.insert(0, osp.join(REPO_ROOT, 'tools', 'deploy'))
import export_onnx as export_tool  # noqa: E402

from mmlowlight.apis.onnx_export import compare_with_onnxruntime  # noqa: E402


def test_export_with_dynamic_sizes_matches_pytorch(tmp_path, capsys):
    torch.manual_seed(0)
    source = SGZEnhancer()
    with torch.no_grad():  # weights well away from zero: a non-trivial factor map
        for p in source.parameters():
            p.mul_(10)
    checkpoint = str(tmp_path / 'sgz.pth')
    torch.save(source.state_dict(), checkpoint)
    out = str(tmp_path / 'sgz.onnx')
    assert export_tool.main(['-o', out, '--checkpoint', checkpoint,
                             '--scale-factor', '12']) == 0
    assert 'max |onnxruntime - PyTorch|' in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ['sgz.onnx', 'sgz.pth']
    model = init_enhancer(checkpoint=checkpoint, scale_factor=12)
    # Multiples of 12, other sizes (incl. 30 / 12 = 2.5: round half to even), 1x1, batch 2.
    sizes = ((1, 48, 72), (2, 30, 18), (1, 1, 1), (1, 37, 61), (1, 13, 250), (1, 120, 96))
    assert compare_with_onnxruntime(model, out, sizes) <= 1e-4


def test_default_enhancer_exports_whole(tmp_path, capsys):
    # The package's weights: exposure control + NoiseAdaptiveGuidedFilter + curve, one graph.
    out = str(tmp_path / 'default.onnx')
    assert export_tool.main(['-o', out]) == 0
    printed = capsys.readouterr().out
    assert 'max |onnxruntime - PyTorch|' in printed and 'leaves out' not in printed
    model = init_enhancer()
    assert model.denoiser is not None and model.exposure_control is not None
    # Sizes that are multiples of neither 8 (the denoiser's pooling) nor 12 (the EFE's
    # thumbnail), 1-pixel and 2-pixel sides (no second differences for the noise estimate),
    # and batches of 2 (each image its own exposure, noise and black level).
    sizes = ((1, 1, 1), (1, 37, 61), (2, 30, 18), (2, 7, 5), (1, 9, 1), (1, 2, 40),
             (1, 13, 250))
    assert compare_with_onnxruntime(model, out, sizes) <= 1e-4
    # The comparison is not vacuous: on these dark inputs the denoiser changes the output
    # (by far more than the tolerance), so the graph holds it.
    x = 0.1 * torch.rand(2, 3, 37, 61, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        whole = model(x)[0]
        model.denoiser = None
        plain = model(x)[0]
    assert (whole - plain).abs().max() > 0.05 and (whole - x).abs().mean() > 0.05
    _assert_night_street_matches(init_enhancer(), out)


def _assert_night_street_matches(model, onnx_path):
    """A night street (a lamp over a dark scene with a noise floor): the graph holds its light
    weight, night level and black point."""
    import onnxruntime as ort
    street = night_street(0.045)
    with torch.inference_mode():
        light = model.scene_light(street)
        black = model.exposure_control.black_point(model.downscale(street), light)
        expected = model(street)[0].numpy()
    assert float(light) == 1 and float(black) > 0.01
    session = ort.InferenceSession(onnx_path, providers=['CPUExecutionProvider'])
    got = session.run(None, {session.get_inputs()[0].name: street.numpy()})[0]
    assert np.abs(got - expected).max() <= 1e-4


def test_gain_share_exports_and_matches_pytorch(tmp_path):
    """The linear gain before the curve (CurveExposureControl(gain_share=...)) and the cap's
    rise with the mean level are in the graph."""
    from mmlowlight.apis.onnx_export import export_onnx
    model = init_enhancer(exposure_control=dict(
        type='CurveExposureControl', share_channels=True, spatial_variation=0.5,
        max_level=0.44, max_level_rise=(0.02, 0.3, 0.6), gain_share=0.6))
    out = export_onnx(model, str(tmp_path / 'gain.onnx'))
    assert compare_with_onnxruntime(model, out, ((1, 37, 61), (2, 30, 18), (1, 1, 1))) <= 1e-4
    x = 0.1 * torch.rand(1, 3, 37, 61, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        gained = model(x)[0]
        model.exposure_control.max_level_rise = None
        assert (gained - model(x)[0]).abs().max() > 0.01
        model.exposure_control.gain_share = 0.0
        assert (gained - model(x)[0]).abs().max() > 0.02
