import glob
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmlowlight.apis import enhance, extract_enhancer_state_dict, init_enhancer
from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.utils import EnhancerMismatchError
from tests.conftest import shared_path


@pytest.mark.parametrize('fast', [False, None])
def test_official_weights_match_official_outputs(official_weights, fast):
    """Acceptance: the published network's outputs on lol15, within one level, through the
    PyTorch reference (fast=False) and through the fast CPU runtime (the default)."""
    low_dir = shared_path('lol15', 'low')
    ref_dir = shared_path('sgz_official', 'lol15_enhanced')
    model = init_enhancer(checkpoint=official_weights, scale_factor=12)
    files = sorted(glob.glob(osp.join(low_dir, '*.png')))
    assert len(files) == 15
    for path in files:
        out = enhance(model, path, fast=fast)
        ref = np.array(Image.open(osp.join(ref_dir, osp.basename(path))).convert('RGB'))
        assert out.shape == ref.shape and out.dtype == np.uint8
        diff = np.abs(out.astype(np.int16) - ref.astype(np.int16))
        assert diff.max() <= 1, path
        assert (diff == 0).mean() >= 0.999, path


def test_official_weights_infer_architecture(official_weights):
    model = init_enhancer(checkpoint=official_weights)
    # Official files record no scale: the official inference setting is the default.
    assert model.conv_type == 'dsc' and model.scale_factor == 12 and not model.training
    assert init_enhancer(checkpoint=official_weights, scale_factor=1).scale_factor == 1
    assert sum(p.numel() for p in model.parameters()) == 10561


def _save_state(tmp_path, state_dict, name='ckpt.pth'):
    path = str(tmp_path / name)
    torch.save(state_dict, path)
    return path


def test_loads_our_checkpoint_with_prefix_and_overrides(tmp_path):
    torch.manual_seed(0)
    source = SGZEnhancer(conv_type='conv')
    state = {f'data_preprocessor.enhancer.{k}': v for k, v in source.state_dict().items()}
    state['backbone.conv1.weight'] = torch.zeros(2)
    path = _save_state(tmp_path, dict(state_dict=state, meta=dict(epoch=3)))
    model = init_enhancer(checkpoint=path, scale_factor=4)
    assert model.conv_type == 'conv' and model.scale_factor == 4
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_config_and_checkpoint_mismatch_names_file(tmp_path):
    path = _save_state(tmp_path, SGZEnhancer(conv_type='conv').state_dict())
    config = dict(model=dict(type='ZeroShotEnhancer',
                             enhancer=dict(type='SGZEnhancer', conv_type='dsc')))
    with pytest.raises(EnhancerMismatchError,
                       match=r"ckpt.pth: weights of another architecture: .*conv_type='conv'"):
        init_enhancer(config, checkpoint=path)


def test_config_without_enhancer(tmp_path):
    path = _save_state(tmp_path, SGZEnhancer().state_dict())
    with pytest.raises(ValueError, match='holds no SGZEnhancer'):
        init_enhancer(dict(model=dict(type='RetinaNet')), checkpoint=path)


def test_checkpoint_without_enhancer(tmp_path):
    path = _save_state(tmp_path, {'backbone.weight': torch.zeros(1)})
    with pytest.raises(ValueError, match='holds no|found no'):
        init_enhancer(checkpoint=path)
    with pytest.raises(ValueError, match='not a state dict'):
        extract_enhancer_state_dict([1, 2], 'x.pth')


def test_enhance_array_and_path_agree(tmp_path):
    model = init_enhancer(checkpoint=_save_state(tmp_path, SGZEnhancer().state_dict()))
    rgb = np.random.default_rng(0).integers(0, 80, (9, 11, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / 'dark.png')
    from_array = enhance(model, rgb)
    from_path = enhance(model, str(tmp_path / 'dark.png'))
    assert from_array.shape == (9, 11, 3) and from_array.dtype == np.uint8
    np.testing.assert_array_equal(from_array, from_path)
    # Read-only input arrays are not written to.
    rgb.flags.writeable = False
    np.testing.assert_array_equal(enhance(model, rgb), from_array)


def test_enhance_rejects_bad_input(tmp_path):
    model = SGZEnhancer().eval()
    with pytest.raises(TypeError, match='uint8 RGB'):
        enhance(model, np.zeros((4, 4), np.float32))
    bad = tmp_path / 'notes.png'
    bad.write_text('not an image')
    with pytest.raises(ValueError, match='notes.png'):
        enhance(model, str(bad))


def test_checkpoint_meta_sets_defaults_and_overrides_win(tmp_path):
    state = SGZEnhancer().state_dict()
    path = _save_state(tmp_path, dict(state_dict=state, meta=dict(enhancer=dict(scale_factor=4))))
    assert init_enhancer(checkpoint=path).scale_factor == 4
    assert init_enhancer(checkpoint=path, scale_factor=12).scale_factor == 12


def test_default_weights_ship_and_brighten():
    model = init_enhancer()
    assert model.scale_factor == 12 and model.conv_type == 'dsc'
    assert model.exposure_control is not None and model.denoiser is not None
    assert sum(p.numel() for p in model.parameters()) == 10561
    # A dark, smoothly shaded scene (mean level ~0.06, as in LOL) comes out well exposed.
    rng = np.random.default_rng(0)
    ramp = np.linspace(5, 30, 96)[None, :, None] * np.array([1.0, 0.9, 0.8])
    dark = np.clip(ramp + rng.normal(0, 1, (64, 96, 3)), 0, 255).astype(np.uint8)
    out = enhance(model, dark)
    assert out.shape == dark.shape
    assert 0.25 < out.mean() / 255 < 0.75
    # Order of brightness is kept: the brighter side of the ramp stays brighter.
    assert out[:, -16:].mean() > out[:, :16].mean()
    # A well-lit image comes back (nearly) unchanged.
    lit = np.clip(np.linspace(40, 250, 96)[None, :, None] + rng.normal(0, 2, (64, 96, 3)), 0,
                  255).astype(np.uint8)
    assert np.abs(enhance(model, lit).astype(int) - lit).max() <= 1


def test_default_weights_lift_a_night_scene_to_middle_grey_at_most():
    """v2.2: the recorded exposure cap keeps a dark night street from becoming a grey day
    (v2.5: 0.41, just under middle grey)."""
    from skimage import data

    from mmlowlight.datasets.synthetic import LowLightSimulator
    model = init_enhancer()
    assert model.exposure_control.max_level == pytest.approx(0.41)
    photo = data.astronaut()[::2, ::2]
    # Darkened as a night capture (linear light x0.12, shot and read noise): mean ~0.15.
    dark = LowLightSimulator(exposure_range=(0.12, 0.12))(photo, np.random.default_rng(0))
    level = enhance(model, dark).mean() / 255
    assert dark.mean() / 255 < 0.2 and 0.3 < level <= 0.42
    uncapped = init_enhancer(exposure_control=dict(type='CurveExposureControl', max_level=0.6))
    assert enhance(uncapped, dark).mean() / 255 > level + 0.03


@pytest.fixture(scope='module')
def small_model():
    torch.manual_seed(0)
    model = SGZEnhancer(scale_factor=4)
    model.init_weights()
    return model.eval()


@pytest.mark.parametrize('mode', ['RGB', 'L', 'RGBA', 'I;16', 'P'])
def test_pil_images_are_enhanced_like_their_files(small_model, tmp_path, mode):
    rng = np.random.default_rng(0)
    if mode == 'I;16':
        pil = Image.fromarray((rng.random((24, 32)) * 9000).astype(np.uint16))
        assert pil.mode == 'I;16'
    else:
        pil = Image.fromarray((rng.random((24, 32, 3)) * 60).astype(np.uint8)).convert(mode)
    path = tmp_path / 'image.png'
    pil.save(path)
    from_file = enhance(small_model, str(path))
    with Image.open(path) as opened:
        from_pil = enhance(small_model, opened)
    assert np.array_equal(enhance(small_model, pil), from_file)
    assert np.array_equal(from_pil, from_file)
    assert from_file.dtype == (np.uint16 if mode == 'I;16' else np.uint8)
    # pathlib.Path and lists mixing the kinds
    assert np.array_equal(enhance(small_model, path), from_file)
    outputs = enhance(small_model, (pil, path, str(path)))
    assert len(outputs) == 3 and all(np.array_equal(out, from_file) for out in outputs)


@pytest.mark.parametrize('bad', [b'/some/path.png', 42, {'img': 1}, torch.zeros(3, 4, 4)])
def test_other_inputs_name_the_type_and_what_is_accepted(small_model, bad):
    with pytest.raises(TypeError) as info:
        enhance(small_model, bad)
    message = str(info.value)
    assert f'got a {type(bad).__name__}' in message
    assert 'PIL image' in message and 'pathlib.Path' in message and 'uint8' in message


def test_float_pil_image_says_why(small_model):
    from mmlowlight.apis import ImageReadError
    with pytest.raises(ImageReadError, match='floating-point'):
        enhance(small_model, Image.fromarray(np.zeros((4, 4), np.float32), 'F'))
