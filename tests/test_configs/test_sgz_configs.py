"""Every config in configs/sgz parses and builds on CPU (no weights are downloaded)."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.registry import DATASETS, MODELS, init_default_scope

from tests.conftest import REPO_ROOT, shared_path

CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'sgz', '*.py')))
CPU_CONFIG = osp.join(REPO_ROOT, 'configs', 'sgz',
                      'sgz-noguide_dsc_adam-lr1e-4_bs8-256_1k_unpaired.py')
OFFICIAL_LOSSES = {
    'SpatialConsistencyLoss': 1.0, 'ColorConstancyLoss': 5.0, 'ExposureLoss': 10.0,
    'IlluminationSmoothnessLoss': 1600.0, 'SemanticGuidanceLoss': 0.1
}


def test_configs_found():
    assert CPU_CONFIG in CONFIGS and len(CONFIGS) >= 7


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_parse_and_build(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmlowlight'
    init_default_scope('mmlowlight')
    adapting = 'adapt-to-' in osp.basename(path)
    if adapting:  # the user's model guides: a tiny one here, randomly initialised
        _tiny_guides(cfg.model.losses)
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'ZeroShotEnhancer'
    weights = {loss['type'].split('.')[-1]: loss['loss_weight'] for loss in cfg.model.losses}
    expected = dict(OFFICIAL_LOSSES)
    if 'noguide' in path or adapting:
        expected.pop('SemanticGuidanceLoss')
    if adapting:  # the task guide and the drift guard on top of the zero-reference losses
        assert weights.pop('PseudoLabelGuidanceLoss') > 0 and weights.pop('OutputAnchorLoss') > 0
        assert model.enhancer.exposure_control.scale_aware_grad
    if 'ExposureRangeLoss' in weights:  # the one-sided form, with the same weight
        expected['ExposureRangeLoss'] = expected.pop('ExposureLoss')
    assert weights == expected
    # The name states the optimiser, learning rate and batch size (OpenMMLab naming).
    lr, batch_size = re.search(r'_adam-lr([0-9.e-]+)_bs(\d+)-', osp.basename(path)).groups()
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'Adam' and optimizer.lr == float(lr)
    assert optimizer.weight_decay == 1e-4 and cfg.optim_wrapper.clip_grad.max_norm == 0.1
    assert cfg.train_dataloader.batch_size == int(batch_size)
    if '_bs6-512_100e_' in path:
        assert cfg.train_cfg.max_epochs == 100
        resize = cfg.train_dataloader.dataset.pipeline[1]
        assert resize['scale'] == (512, 512) and not resize['keep_ratio']


def _tiny_guides(losses):
    for loss in losses:
        if loss['type'].endswith('PseudoLabelGuidanceLoss'):
            task = 'mmdet' if loss.guide.type.endswith('MMDetGuide') else 'mmseg'
            pytest.importorskip(f'{task}.models')
            from tests.test_models.test_guides.test_mmseg_guide import _segmentor_cfg
            from tests.test_models.test_guides.test_task_guides import tiny_detector_cfg
            loss.guide.config = tiny_detector_cfg() if task == 'mmdet' else _segmentor_cfg()
            loss.guide.checkpoint = None


def test_cpu_recipe_datasets_on_the_shared_folders():
    cfg = Config.fromfile(CPU_CONFIG)
    init_default_scope('mmlowlight')
    train = dict(cfg.train_dataloader.dataset, data_root=shared_path('unpaired'))
    val = dict(cfg.val_dataloader.dataset, data_root=shared_path('lol15', 'low'))
    train_set, val_set = DATASETS.build(train), DATASETS.build(val)
    assert len(train_set) == 142 and len(val_set) == 15
    sample = train_set[0]
    assert sample['inputs'].shape == (3, 256, 256)
