"""tools/analysis/guide_ablation.py: the three arms differ only in the semantic loss."""
import importlib.util
import os.path as osp

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = osp.join(REPO_ROOT, 'tools', 'analysis', 'guide_ablation.py')


@pytest.fixture(scope='module')
def ablation():
    spec = importlib.util.spec_from_file_location('guide_ablation', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_arms_share_the_recipe_and_differ_in_the_guide(ablation, tmp_path):
    recipe = osp.join(REPO_ROOT, ablation.DEFAULT_RECIPE)
    arms = {arm: ablation.arm_config(recipe, arm, None, str(tmp_path)) for arm in ablation.ARMS}
    losses = {arm: [loss['type'] for loss in cfg.model.losses] for arm, cfg in arms.items()}
    assert 'SemanticGuidanceLoss' not in losses['noguide']
    assert losses['random guide'] == losses['pretrained guide'] == (
        losses['noguide'] + ['SemanticGuidanceLoss'])
    random_guide = arms['random guide'].model.losses[-1].guide
    pretrained = arms['pretrained guide'].model.losses[-1].guide
    assert random_guide.backbone.init_cfg is None
    assert pretrained.backbone.init_cfg.checkpoint == osp.join(
        str(tmp_path), 'pretrained', 'mobilenetv1_x0.25_imagenet.tar')
    assert {k: v for k, v in random_guide.items() if k != 'backbone'} == {
        k: v for k, v in pretrained.items() if k != 'backbone'}
    for cfg in arms.values():  # the same enhancer, optimiser and data for every arm
        assert cfg.model.enhancer == arms['noguide'].model.enhancer
        assert cfg.optim_wrapper == arms['noguide'].optim_wrapper
        assert cfg.train_dataloader == arms['noguide'].train_dataloader
    weighted = ablation.arm_config(recipe, 'pretrained guide', 0.5, str(tmp_path))
    assert weighted.model.losses[-1].loss_weight == 0.5


def test_table_reports_means_and_per_seed_values(ablation):
    rows = {'a': [dict(psnr=10.0, ssim=0.5), dict(psnr=12.0, ssim=0.7)], 'b': [dict(psnr=9.0,
                                                                                    ssim=0.4)]}
    text = ablation.table(rows)
    assert '| a | 2 | 11.00 (10.00 / 12.00) | 0.600 (0.500 / 0.700) |' in text
    assert '| b | 1 | 9.00 | 0.400 |' in text
    assert 'noise sigma' not in text  # columns absent from the rows are left out
