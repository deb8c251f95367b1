"""Every config in configs/det and configs/seg parses and builds on CPU (no weights downloaded)."""
import copy
import functools
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmlowlight.models.data_preprocessors import LowLightPreprocessorMixin
from tests.conftest import REPO_ROOT

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'det', '*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'seg', '*.py')))


@functools.lru_cache(maxsize=None)
def _parse(path):
    # Resolving mmdet::/mmseg:: bases reads their model indexes: about a second per config.
    return Config.fromfile(path)


def load(path):
    return copy.deepcopy(_parse(path))


def variant(path):
    name = osp.basename(path)
    return 'joint' if 'sgz-joint' in name else 'frozen' if 'sgz-frozen' in name else 'baseline'


def without_downloads(cfg):
    """No pretrained weights (none can be downloaded here); the enhancer starts random."""
    model = cfg.model
    if 'pretrained' in model:
        model.pretrained = None
    model.backbone.init_cfg = None
    if variant(cfg.filename) != 'baseline':
        model.data_preprocessor.enhancer_checkpoint = False
    return cfg


def test_all_tasks_and_variants_are_there():
    names = {osp.basename(p) for p in CONFIGS}
    assert len(names) == 25
    for detector in ('retinanet_r50_fpn', 'faster-rcnn_r50_fpn'):
        for dataset in ('exdark', 'darkface'):
            assert {f'{detector}_1x_{dataset}.py', f'{detector}_sgz-frozen_1x_{dataset}.py',
                    f'{detector}_sgz-joint_1x_{dataset}.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(p) for p in CONFIGS])
def test_config_builds(path):
    """Baselines build whole; an SGZ variant must equal its baseline but for the preprocessor,
    which is built (keeps this test fast: the ResNet-50s are built once per baseline)."""
    pytest.importorskip('mmdet.models' if '/det/' in path else 'mmseg.models')
    cfg = without_downloads(load(path))
    kind = variant(path)
    init_default_scope(cfg.default_scope)
    if kind == 'baseline':
        model = MODELS.build(cfg.model)
        assert not isinstance(model.data_preprocessor, LowLightPreprocessorMixin)
        return

    # Shipped with the package's default weights (tests cannot assume the file is installed).
    assert load(path).model.data_preprocessor.enhancer_checkpoint is None
    preprocessor_cfg = cfg.model.data_preprocessor
    hooks = [hook.type for hook in cfg.get('custom_hooks', [])]
    # Never scope the preprocessor dict itself (mmdet builds its batch_augments inside it).
    assert '_scope_' not in preprocessor_cfg
    assert cfg.custom_imports.imports == ['mmlowlight']
    assert ('mmlowlight.AuxLossHook' in hooks) == (kind == 'joint')
    # A jointly trained enhancer must not turn NaN silently (issue 12.4).
    assert ('mmlowlight.NonFiniteGuardHook' in hooks) == (kind == 'joint')
    baseline = without_downloads(load(path.replace('sgz-frozen_', '').replace('sgz-joint_', '')))
    assert {k: v for k, v in cfg.model.items() if k != 'data_preprocessor'} == {
        k: v for k, v in baseline.model.items() if k != 'data_preprocessor'}
    # The SGZ dict merged into the baseline's preprocessor: normalisation, channel order,
    # padding and batch augments stay the baseline's.
    assert {k: v for k, v in preprocessor_cfg.items() if k in baseline.model.data_preprocessor
            and k != 'type'} == {k: v for k, v in baseline.model.data_preprocessor.items()
                                 if k != 'type'}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'optim_wrapper'):
        assert cfg[key] == baseline[key], key

    preprocessor = MODELS.build(preprocessor_cfg)
    assert isinstance(preprocessor, LowLightPreprocessorMixin)
    assert preprocessor.freeze == (kind == 'frozen')
    if kind == 'joint':
        assert {loss.loss_name for loss in preprocessor.aux_losses} == {
            'loss_spatial', 'loss_color', 'loss_exposure', 'loss_smooth'}


SGZ_CONFIGS = [p for p in CONFIGS if variant(p) != 'baseline']


@functools.lru_cache(maxsize=1)
def _photo_enhancer():
    from mmlowlight.apis import init_enhancer
    return init_enhancer()


@functools.lru_cache(maxsize=1)
def _night_street():
    """A dark capture of a scene lit by its own lamps (clipped plateaus), RGB uint8."""
    import numpy as np

    from mmlowlight.datasets.synthetic import LowLightSimulator
    rng = np.random.default_rng(3)
    scene = (np.linspace(10, 60, 230)[None, :, None] * np.ones((150, 1, 3))
             + rng.normal(0, 6, (150, 230, 3)))
    for y, x in ((30, 40), (35, 150), (90, 200)):
        scene[y:y + 8, x:x + 10] = 255
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    return LowLightSimulator().__call__(scene, np.random.default_rng(0), exposure=0.1)


@functools.lru_cache(maxsize=1)
def _dark_photo():
    """A 150 x 230 dark, noisy capture of a real photo (RGB uint8)."""
    import cv2
    import numpy as np
    from skimage import data

    from mmlowlight.datasets.synthetic import LowLightSimulator
    photo = cv2.resize(data.coffee(), (230, 150), interpolation=cv2.INTER_AREA)
    return LowLightSimulator().__call__(photo, np.random.default_rng(0), exposure=0.04)


def preprocessor_output_rgb(preprocessor, cfg, rgb):
    """What the model receives for ``rgb`` (H x W x 3 uint8), back in RGB uint8 space."""
    import numpy as np
    import torch
    bgr = np.ascontiguousarray(rgb[..., ::-1])  # as mmcv loads it
    height, width = rgb.shape[:2]
    inputs = torch.from_numpy(bgr).permute(2, 0, 1).contiguous()
    with torch.no_grad():
        out = preprocessor(dict(inputs=[inputs]), training=False)['inputs'][0]
    mean = torch.tensor(cfg.get('mean', [0, 0, 0]), dtype=torch.float32)[:, None, None]
    std = torch.tensor(cfg.get('std', [1, 1, 1]), dtype=torch.float32)[:, None, None]
    image = out[:, :height, :width] * std + mean
    if not (cfg.get('bgr_to_rgb') or cfg.get('rgb_to_bgr')):
        image = image.flip(0)  # the model kept mmcv's BGR order
    return image.permute(1, 2, 0).numpy()


@pytest.mark.parametrize('path', SGZ_CONFIGS, ids=[osp.basename(p) for p in SGZ_CONFIGS])
def test_config_gives_the_model_the_photo_enhancer(path):
    """The shipped configs' enhancer is `enhance(init_enhancer(), img)` (within 2 grey levels):
    the default weights' recorded pipeline, exposure control and denoiser included."""
    pytest.importorskip('mmdet.models' if '/det/' in path else 'mmseg.models')
    import numpy as np

    from mmlowlight.apis import enhance
    cfg = load(path)
    init_default_scope(cfg.default_scope)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    assert type(preprocessor.enhancer.exposure_control).__name__ == 'CurveExposureControl'
    assert type(preprocessor.enhancer.denoiser).__name__ == 'NoiseAdaptiveGuidedFilter'
    assert preprocessor.enhancer.has_input_gain  # v2.3's gain before the curve, as recorded
    assert 'CurveExposureControl' in preprocessor.pipeline_description
    preprocessor.eval()
    dark = _dark_photo()
    got = preprocessor_output_rgb(preprocessor, cfg.model.data_preprocessor, dark)
    expected = enhance(_photo_enhancer(), dark).astype(np.float32)
    difference = np.abs(got - expected)
    assert difference.max() <= 2.0, (difference.max(), difference.mean())
    assert expected.mean() > 2 * dark.mean()  # it did enhance


def test_config_gives_a_night_street_the_photo_enhancers_night_level():
    """A scene lit by its own lamps: the model gets `enhance(init_enhancer(), img)` with the
    recorded night level; a config key turns it off, as any recorded setting."""
    pytest.importorskip('mmdet.models')
    import numpy as np

    from mmlowlight.apis import enhance, init_enhancer
    from mmlowlight.ops.light_sources import light_weights
    path = next(p for p in SGZ_CONFIGS if 'retinanet' in p and 'frozen' in p)
    cfg = load(path)
    init_default_scope(cfg.default_scope)
    preprocessor = MODELS.build(cfg.model.data_preprocessor).eval()
    recorded = _photo_enhancer().exposure_control
    assert recorded.light_level is not None
    assert preprocessor.enhancer.exposure_control.light_level == recorded.light_level
    street = _night_street()
    assert light_weights(recorded, street[None])[0] == 1
    got = preprocessor_output_rgb(preprocessor, cfg.model.data_preprocessor, street)
    assert np.abs(got - enhance(_photo_enhancer(), street).astype(np.float32)).max() <= 2.0
    cfg.model.data_preprocessor.enhancer = dict(
        type='mmlowlight.SGZEnhancer', exposure_control=dict(light_level=None))
    off = MODELS.build(cfg.model.data_preprocessor).eval()
    brighter = preprocessor_output_rgb(off, cfg.model.data_preprocessor, street)
    expected = enhance(init_enhancer(exposure_control=dict(light_level=None)), street)
    assert np.abs(brighter - expected.astype(np.float32)).max() <= 2.0
    assert brighter.mean() > got.mean() + 10


@pytest.mark.parametrize('stage', ['denoiser', 'exposure_control'])
def test_config_key_turns_a_stage_off(stage):
    pytest.importorskip('mmdet.models')
    import numpy as np

    from mmlowlight.apis import enhance, init_enhancer
    path = next(p for p in SGZ_CONFIGS if 'retinanet' in p and 'frozen' in p)
    cfg = load(path)
    cfg.model.data_preprocessor.enhancer[stage] = None
    init_default_scope(cfg.default_scope)
    preprocessor = MODELS.build(cfg.model.data_preprocessor).eval()
    assert getattr(preprocessor.enhancer, stage) is None
    assert f'no {stage.replace("_", " ")} [config]' in preprocessor.pipeline_description
    dark = _dark_photo()
    got = preprocessor_output_rgb(preprocessor, cfg.model.data_preprocessor, dark)
    without = enhance(init_enhancer(**{stage: None}), dark).astype(np.float32)
    assert np.abs(got - without).max() <= 2.0
    full = enhance(_photo_enhancer(), dark).astype(np.float32)
    assert np.abs(without - full).mean() > 1.0  # the stage mattered
