"""tools/analysis/evaluate_enhancer.py: the semantic-fidelity column (KL of ImageNet classes)."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.conftest import REPO_ROOT, shared_path

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'evaluate_enhancer.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('evaluate_enhancer', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_semantic_kl_is_zero_for_the_reference_and_grows_with_darkness(tmp_path):
    from skimage import data
    data_root = osp.dirname(shared_path('pretrained', 'mobilenetv1_x0.25_imagenet.tar'))
    tool = load_tool()
    classifier = tool.imagenet_classifier(osp.dirname(data_root))
    for kind in ('low', 'high'):
        (tmp_path / kind).mkdir()
    photo = cv2.resize(data.chelsea(), (160, 128))
    cv2.imwrite(str(tmp_path / 'high' / 'cat.png'), photo[..., ::-1])
    cv2.imwrite(str(tmp_path / 'low' / 'cat.png'), (photo // 12)[..., ::-1])
    root = str(tmp_path)
    high = cv2.imread(str(tmp_path / 'high' / 'cat.png'))[..., ::-1]
    assert tool.semantic_kl(lambda rgb: high, root, classifier) == pytest.approx(0, abs=1e-6)
    dark = tool.semantic_kl(lambda rgb: rgb, root, classifier)
    brightened = tool.semantic_kl(lambda rgb: np.clip(rgb.astype(int) * 12, 0, 255).astype(
        np.uint8), root, classifier)
    assert dark > 0.1 and brightened < dark


def load_night_pairs():
    spec = importlib.util.spec_from_file_location(
        'night_pairs', osp.join(REPO_ROOT, 'tools', 'analysis', 'night_pairs.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_night_figures_on_a_synthetic_lamp():
    """The halo figure is 0 for a faithful output and grows when a lamp's light bleeds."""
    tool = load_night_pairs()
    scene = np.full((120, 160, 3), 40, np.uint8)
    cv2.circle(scene, (80, 60), 5, (255, 255, 255), -1)  # a lamp
    assert tool.halo(scene, scene) == pytest.approx(0, abs=1e-6)
    assert tool.halo(scene, scene * 2) == pytest.approx(0, abs=0.02)  # global gain: no halo
    yy, xx = np.mgrid[0:120, 0:160]
    glow = 120 * np.exp(-((xx - 80)**2 + (yy - 60)**2) / (2 * 15**2))
    fog = (scene + glow[..., None]).clip(0, 255).astype(np.uint8)  # light bleeding around it
    assert tool.halo(scene, fog) > 0.1
    assert np.isnan(tool.halo(scene // 2, scene // 2))  # no light at all
    assert tool.dark_channel(scene) == pytest.approx(40 / 255, abs=1e-6)
    veil = (scene.astype(int) + 60).clip(0, 255).astype(np.uint8)
    assert tool.dark_channel(veil) > tool.dark_channel(scene)


def test_smoothed_dark_channel_sees_through_noise():
    """Noise lowers the plain dark channel (each window's minimum picks its troughs); after
    the 2-px blur a noisy copy reads close to the clean image."""
    tool = load_night_pairs()
    clean = np.full((96, 96, 3), 80, np.uint8)
    noise = np.random.default_rng(0).normal(0, 12, clean.shape)
    noisy = (clean + noise).clip(0, 255).astype(np.uint8)
    assert tool.dark_channel(noisy) < tool.dark_channel(clean) - 30 / 255
    smoothed = tool.dark_channel(noisy, smoothing=tool.VEIL_SMOOTHING)
    assert smoothed == pytest.approx(tool.dark_channel(clean), abs=12 / 255)
    assert tool.dark_channel(clean, smoothing=2.0) == pytest.approx(80 / 255, abs=1e-6)


def test_night_pairs_are_deterministic():
    tool = load_night_pairs()
    photos = [('a', (np.random.default_rng(0).random((24, 32, 3)) * 255).astype(np.uint8))]
    first, second = tool.night_pairs(photos, (0.1, 0.2)), tool.night_pairs(photos, (0.1, 0.2))
    assert [p[1] for p in first] == [0.1, 0.2]
    assert all(np.array_equal(a[3], b[3]) for a, b in zip(first, second))
    assert first[0][3].mean() < first[1][3].mean() < photos[0][1].mean()
    # A camera's sRGB encoding: other dark copies (the shadows on its linear segment), as
    # deterministic.
    srgb = tool.night_pairs(photos, (0.1, ), transfer='srgb')
    assert np.array_equal(srgb[0][3], tool.night_pairs(photos, (0.1, ), transfer='srgb')[0][3])
    assert not np.array_equal(srgb[0][3], first[0][3])


def test_quadrant_crops_tile_each_photo():
    tool = load_night_pairs()
    rgb = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    crops = tool.quadrant_crops([('a.png', rgb)])
    assert [name for name, _ in crops] == ['a.png-q0', 'a.png-q1', 'a.png-q2', 'a.png-q3']
    assert all(crop.shape == (2, 3, 3) and crop.flags.c_contiguous for _, crop in crops)
    assert np.array_equal(crops[0][1], rgb[:2, :3]) and np.array_equal(crops[3][1], rgb[2:4, 3:6])
    with pytest.raises(ValueError, match='tiny.png: 1x4 is too small'):
        tool.quadrant_crops([('tiny.png', np.zeros((4, 1, 3), np.uint8))])


@pytest.mark.filterwarnings('ignore:divide by zero:RuntimeWarning')  # PSNR of a perfect output
def test_night_crop_rows_score_the_quadrants():
    """The quadrant figures: a perfect output (the original quadrant itself) scores SSIM 1 and
    the originals' dark channel; the dark copy itself does not."""
    tool = load_tool()
    scene = np.full((256, 320, 3), 60, np.uint8)
    scene[128:] = 90  # the bottom quadrants differ from the top ones
    for x in (80, 240):
        cv2.circle(scene, (x, 64), 4, (255, 255, 255), -1)  # a lamp in each top quadrant
    night = tool.night_sets([('s.png', scene)])
    pairs = night['crop_pairs']
    truth = {dark.tobytes(): original for _, _, original, dark in pairs}
    assert len(truth) == len(pairs) == 4 * 3  # every dark copy tells its original
    perfect = tool.night_crop_rows(lambda rgb: truth[rgb.tobytes()], night)
    assert set(perfect) == {'night_crops_ssim', 'night_crops_dark_channel',
                            'night_crops_reference_dark_channel', 'night_crops_halo'}
    assert perfect['night_crops_ssim'] == pytest.approx(1)
    assert perfect['night_crops_dark_channel'] == pytest.approx(
        perfect['night_crops_reference_dark_channel'])
    assert perfect['night_crops_halo'] == pytest.approx(0, abs=1e-6)
    dark = tool.night_crop_rows(lambda rgb: rgb, night)
    assert dark['night_crops_ssim'] < 0.9
    assert dark['night_crops_dark_channel'] < dark['night_crops_reference_dark_channel']


def test_fine_detail_falls_with_smoothing_and_rises_with_noise():
    from skimage import data
    tool = load_tool()
    photo = cv2.resize(data.coffee(), (200, 150))
    smoothed = cv2.GaussianBlur(photo, (0, 0), 2)
    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 12, photo.shape), 0,
                    255).astype(np.uint8)
    assert tool.fine_detail(smoothed) < 0.8 * tool.fine_detail(photo)
    assert tool.fine_detail(noisy) > tool.fine_detail(photo)
    assert tool.fine_detail(np.full((20, 30, 3), 90, np.uint8)) == pytest.approx(0, abs=1e-7)


def test_lol_pairs_report_the_dark_channel_of_outputs_and_references(tmp_path):
    """The references' dark channel sits beside the outputs': a perfect output matches it, a
    grey veil raises the outputs' figure only."""
    from skimage import data
    tool = load_tool()
    for kind in ('low', 'high'):
        (tmp_path / kind).mkdir()
    photo = cv2.resize(data.coffee(), (160, 128))
    cv2.imwrite(str(tmp_path / 'high' / 'cup.png'), photo[..., ::-1])
    cv2.imwrite(str(tmp_path / 'low' / 'cup.png'), (photo // 10)[..., ::-1])
    high = cv2.imread(str(tmp_path / 'high' / 'cup.png'))[..., ::-1]
    perfect = tool.lol_pairs(lambda rgb: high, str(tmp_path))
    assert set(perfect) == {'lol_psnr', 'lol_ssim', 'lol_detail', 'lol_dark_channel',
                            'lol_reference_dark_channel'}
    assert perfect['lol_dark_channel'] == pytest.approx(perfect['lol_reference_dark_channel'])
    assert perfect['lol_ssim'] == pytest.approx(1)
    veiled = tool.lol_pairs(lambda rgb: (high // 2 + 100).astype(np.uint8), str(tmp_path))
    assert veiled['lol_reference_dark_channel'] == perfect['lol_reference_dark_channel']
    assert veiled['lol_dark_channel'] > perfect['lol_dark_channel'] + 0.2
