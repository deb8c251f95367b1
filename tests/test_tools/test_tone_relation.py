"""tools/analysis/tone_relation.py: the slope of a reference's tones against its dark capture."""
import importlib.util
import os.path as osp
import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, shared_path

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'tone_relation.py')


def load_tool():
    sys.path.insert(0, osp.dirname(TOOL))  # its sibling night_pairs
    spec = importlib.util.spec_from_file_location('tone_relation', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scene(size=96):
    """A smooth, grey scene in [0.05, 0.6] (linear in the encoded values)."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    values = 0.05 + 0.55 * (0.6 * xx + 0.4 * yy)
    return np.repeat(values[..., None], 3, axis=2)


def encode(values):
    return np.round(np.clip(values, 0, 1) * 255).astype(np.uint8)


def test_an_exposure_change_has_slope_one_and_a_power_its_exponent():
    tool = load_tool()
    reference = scene()
    dark = encode(reference * 0.2)  # a gain (an exposure change under a power law)
    assert tool.tone_slope(dark, encode(reference)) == pytest.approx(1.0, abs=0.03)
    # A reference with half the capture's log contrast: shadows lifted (a concave curve).
    lifted = encode(0.8 * (reference * 0.2)**0.5)
    assert tool.tone_slope(dark, lifted) == pytest.approx(0.5, abs=0.03)


def test_too_dark_flat_or_mismatched_pairs():
    tool = load_tool()
    reference = encode(scene())
    assert np.isnan(tool.tone_slope(np.zeros_like(reference), reference))  # under the floor
    flat = np.full_like(reference, 60)
    assert np.isnan(tool.tone_slope(flat, reference))  # no spread to fit
    with pytest.raises(ValueError, match='differ in shape'):
        tool.tone_slope(reference[:10], reference)


def test_lol_references_compress_the_captures_contrast():
    """The real LOL pairs: the reference has less log contrast than the capture (slope < 1),
    the simulated night pairs none (about 1); the measurement behind the docs' explanation."""
    root = shared_path()
    if not osp.isdir(osp.join(root, 'lol_val_pairs')) or \
            not osp.isdir(osp.join(root, 'night_lights')):
        pytest.skip(f'needs lol_val_pairs and night_lights under {root}')
    tool = load_tool()
    lol = [tool.tone_slope(dark, ref) for dark, ref in tool.lol_pairs(root)]
    night = [tool.tone_slope(dark, ref) for dark, ref in tool.night_photo_pairs(root)]
    assert np.nanmedian(lol) < 0.7
    assert 0.9 < np.nanmedian(night) < 1.1
