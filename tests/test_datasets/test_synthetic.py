import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmlowlight.datasets.synthetic import (SHAPE_CLASSES, LowLightSimulator,
                                           generate_shapes_dataset, render_shapes_image)


class TestLowLightSimulator:

    def _linear(self, image, gamma=2.2):
        return (image.astype(np.float64) / 255)**gamma

    def test_mean_drops_by_the_exposure_factor(self):
        image = np.full((64, 64, 3), 180, np.uint8)
        sim = LowLightSimulator()
        for exposure in (0.05, 0.2):
            dark = sim(image, np.random.default_rng(0), exposure=exposure)
            ratio = self._linear(dark).mean() / self._linear(image).mean()
            assert ratio == pytest.approx(exposure, rel=0.03)

    def test_noise_variance_grows_with_signal(self):
        sim = LowLightSimulator(full_well=2000, read_noise=2.0, gamma=1.0)
        variances = []
        for grey in (40, 120, 240):
            dark = sim(np.full((128, 128), grey, np.uint8), np.random.default_rng(1),
                       exposure=1.0)
            # electrons: Poisson(S) + N(0, read^2) => variance S + read^2 (plus 8-bit rounding)
            electrons = dark.astype(np.float64) / 255 * sim.full_well
            variances.append(electrons.var())
            expected = grey / 255 * sim.full_well + sim.read_noise**2
            assert electrons.var() == pytest.approx(expected, rel=0.15)
        assert variances[0] < variances[1] < variances[2]

    def test_reproducible_and_validated(self):
        image = np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        sim = LowLightSimulator()
        first = sim(image, np.random.default_rng(5))
        assert first.dtype == np.uint8 and first.shape == image.shape
        assert np.array_equal(first, sim(image, np.random.default_rng(5)))
        assert first.mean() < image.mean() / 2
        with pytest.raises(TypeError, match='uint8'):
            sim(image.astype(np.float32), np.random.default_rng(0))
        with pytest.raises(ValueError, match='exposure_range'):
            LowLightSimulator(exposure_range=(0.5, 0.1))
        for _ in range(20):
            assert 0.02 <= sim.sample_exposure(np.random.default_rng(_)) <= 0.06


class TestTransfer:
    """The sRGB transfer function against its standard's fixed points, and what it does to a
    dark capture that the power law does not."""

    def test_srgb_matches_the_standard_and_inverts(self):
        from mmlowlight.datasets.synthetic.low_light_noise import srgb_decode, srgb_encode
        assert srgb_encode(np.array([0.0, 1.0])).tolist() == pytest.approx([0.0, 1.0])
        # IEC 61966-2-1: linear 0.0031308 <-> 0.04045, 12.92 below, 0.5 -> 0.7354 above.
        assert srgb_encode(np.array(0.0031308)) == pytest.approx(0.04045, abs=1e-5)
        assert srgb_encode(np.array(0.001)) == pytest.approx(0.01292)
        assert srgb_encode(np.array(0.5)) == pytest.approx(0.7354, abs=1e-4)
        grey = np.arange(256) / 255.0
        assert np.abs(srgb_encode(srgb_decode(grey)) - grey).max() < 1e-12
        sim = LowLightSimulator(transfer='srgb')
        image = np.arange(256, dtype=np.uint8).reshape(16, 16)
        assert np.array_equal(sim.encode_uint8(sim.decode(image / 255.0)), image)

    def test_level_is_hit_and_shadows_fall_on_the_linear_segment(self):
        scene = np.linspace(0.02, 0.9, 64 * 64).reshape(64, 64)  # linear light
        darks = {}
        for transfer in ('power', 'srgb'):
            sim = LowLightSimulator(transfer=transfer, read_noise=0.0, full_well=1e7)
            exposure = sim.exposure_for_level(scene, 20.0)
            darks[transfer] = sim.capture_linear(scene, np.random.default_rng(0), exposure)
            assert darks[transfer].mean() == pytest.approx(20.0, abs=0.5)
        # Same mean level, but the sRGB capture keeps less of the shadows (its toe is linear,
        # steeper in log terms) and more contrast between its darkest and brightest parts.
        assert darks['srgb'][:8].mean() < 0.8 * darks['power'][:8].mean()
        assert darks['srgb'][-8:].mean() > darks['power'][-8:].mean()

    def test_bad_transfer(self):
        with pytest.raises(ValueError, match="transfer must be one of"):
            LowLightSimulator(transfer='log')


class TestShapesDataset:

    def test_render_boxes_are_tight(self):
        image, boxes, labels = render_shapes_image(np.random.default_rng(3), (96, 80))
        assert image.shape == (96, 80, 3) and image.dtype == np.uint8
        assert 1 <= len(boxes) == len(labels) <= 4
        for x, y, w, h in boxes:
            assert 0 <= x and 0 <= y and x + w <= 80 and y + h <= 96 and 16 <= max(w, h) <= 48

    def test_generates_valid_coco(self, tmp_path):
        written = generate_shapes_dataset(str(tmp_path), {'train': 6, 'val': 3}, seed=4,
                                          image_size=(64, 72), size_range=(12, 30))
        pycocotools = pytest.importorskip('pycocotools.coco')
        for split, count in (('train', 6), ('val', 3)):
            coco = pycocotools.COCO(written[split])  # parses and indexes the file
            assert len(coco.getImgIds()) == count
            assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(SHAPE_CLASSES)
            for img in coco.loadImgs(coco.getImgIds()):
                path = osp.join(str(tmp_path), 'images', split, img['file_name'])
                assert cv2.imread(path).shape == (img['height'], img['width'], 3) == (64, 72, 3)
                assert coco.getAnnIds(imgIds=img['id'])
        again = generate_shapes_dataset(str(tmp_path / 'again'), {'train': 6, 'val': 3}, seed=4,
                                        image_size=(64, 72), size_range=(12, 30))
        assert json.load(open(again['train'])) == json.load(open(written['train']))


class TestNightScenes:

    def test_scene_renders_objects_masks_and_lamps(self):
        from mmlowlight.datasets.synthetic import photo_backgrounds, render_night_scene
        photos = photo_backgrounds()
        assert len(photos) >= 5 and all(p.dtype == np.uint8 and p.shape[2] == 3 for p in photos)
        scene = render_night_scene(np.random.default_rng(3), photos, (96, 112),
                                   num_objects=(2, 3), num_lamps=(2, 2))
        assert scene.linear.shape == (96, 112, 3) and scene.linear.dtype == np.float32
        assert scene.linear.max() > 5  # lamp cores far above white
        assert 2 <= len(scene.boxes) == len(scene.labels) <= 3
        for (x, y, w, h), label in zip(scene.boxes, scene.labels):
            inside = scene.mask[int(y):int(y + h), int(x):int(x + w)]
            assert (inside == label + 1).mean() > 0.3
        normal = scene.normal_light()
        assert normal.dtype == np.uint8 and (normal == 255).any()

    def test_dataset_levels_determinism_and_layout(self, tmp_path):
        from mmlowlight.datasets.synthetic import generate_night_scenes_dataset
        kwargs = dict(num_images={'train': 6, 'val': 3}, seed=1, image_size=(64, 80),
                      level_range=(8.0, 30.0))
        paths = generate_night_scenes_dataset(str(tmp_path / 'a'), **kwargs)
        generate_night_scenes_dataset(str(tmp_path / 'b'), **kwargs)
        with open(paths['train']) as f:
            coco = json.load(f)
        assert len(coco['images']) == 6 and [c['name'] for c in coco['categories']] == list(
            SHAPE_CLASSES)
        levels = []
        for kind in ('images', 'dark', 'masks'):
            for index in range(6):
                name = f'{index:05d}.png'
                a = cv2.imread(str(tmp_path / 'a' / kind / 'train' / name), cv2.IMREAD_UNCHANGED)
                b = cv2.imread(str(tmp_path / 'b' / kind / 'train' / name), cv2.IMREAD_UNCHANGED)
                assert np.array_equal(a, b)
                assert a.shape[:2] == (64, 80)
                if kind == 'dark':
                    levels.append(a.mean())
                if kind == 'masks':
                    assert a.ndim == 2 and a.max() <= len(SHAPE_CLASSES)
        # Noise and clipped lamps move the mean a little off the drawn level.
        assert 5 < min(levels) and max(levels) < 40

    def test_bad_level_range(self, tmp_path):
        from mmlowlight.datasets.synthetic import (captured_night_scenes,
                                                   generate_night_scenes_dataset)
        with pytest.raises(ValueError, match='level_range'):
            generate_night_scenes_dataset(str(tmp_path / 'out'), {'val': 1}, level_range=(0, 10))
        assert not osp.exists(tmp_path / 'out')  # refused before any folder is made
        with pytest.raises(ValueError, match='level_range'):
            next(captured_night_scenes(1, level_range=(40, 5)))


class TestCaptureLinear:

    def test_lamps_clip_and_level_is_hit(self):
        sim = LowLightSimulator()
        linear = np.full((64, 64, 3), 0.2)
        linear[:4, :4] = 500.0  # a lamp
        exposure = sim.exposure_for_level(linear, 20.0)
        dark = sim.capture_linear(linear, np.random.default_rng(0), exposure)
        assert dark[:4, :4].min() == 255
        assert dark[8:].mean() == pytest.approx(20.0, rel=0.1)

    def test_errors(self):
        sim = LowLightSimulator()
        with pytest.raises(ValueError, match='exposure'):
            sim.capture_linear(np.ones((2, 2)), np.random.default_rng(0), 0.0)
        with pytest.raises(ValueError, match='level'):
            sim.exposure_for_level(np.ones((2, 2)), 300)
