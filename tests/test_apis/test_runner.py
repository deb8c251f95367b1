import argparse
import os.path as osp

import pytest

from mmlowlight.apis import (add_runner_arguments, configure_testing, configure_training,
                             load_runner_config)
from mmlowlight.apis.runner import build_runner
from tests.conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs', 'sgz', 'sgz_dsc_adam-lr1e-4_bs6-512_100e_unpaired.py')


def test_load_runner_config_defaults_and_overrides():
    cfg = load_runner_config(CONFIG, {'train_dataloader.num_workers': 0})
    assert cfg.work_dir == osp.join('./work_dirs', 'sgz_dsc_adam-lr1e-4_bs6-512_100e_unpaired')
    assert cfg.launcher == 'none' and cfg.default_scope == 'mmlowlight'
    # persistent_workers is dropped where there are no workers (torch would raise).
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True
    cfg = load_runner_config(CONFIG, work_dir='/tmp/x', launcher='pytorch')
    assert cfg.work_dir == '/tmp/x' and cfg.launcher == 'pytorch'
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_runner_config('nope.py')


def test_configure_training_like_mmdet():
    cfg = configure_training(load_runner_config(CONFIG), amp=True, resume='auto')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.resume is True and cfg.load_from is None
    cfg = configure_training(load_runner_config(CONFIG), resume='w/iter_2.pth', auto_scale_lr=True)
    assert cfg.resume is True and cfg.load_from == 'w/iter_2.pth'
    assert cfg.auto_scale_lr.enable is True
    cfg = load_runner_config(CONFIG)
    cfg.optim_wrapper.type = 'MyWrapper'
    with pytest.raises(ValueError, match='MyWrapper'):
        configure_training(cfg, amp=True)


def test_configure_testing_and_dump_file_checks(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        configure_testing(load_runner_config(CONFIG), str(tmp_path / 'missing.pth'))
    checkpoint = tmp_path / 'c.pth'
    checkpoint.write_bytes(b'')
    assert configure_testing(load_runner_config(CONFIG), str(checkpoint)).load_from == str(
        checkpoint)
    with pytest.raises(ValueError, match=r'\.pkl'):
        build_runner(load_runner_config(CONFIG), dump_results_to='out.json')


def test_shared_arguments():
    parser = add_runner_arguments(argparse.ArgumentParser())
    args = parser.parse_args(['--work-dir', 'w', '--cfg-options', 'a.b=1', '--launcher',
                              'pytorch', '--local-rank', '1'])
    assert (args.work_dir, args.cfg_options, args.launcher, args.local_rank) == (
        'w', {'a.b': 1}, 'pytorch', 1)


def test_zero_shot_model_with_load_from_gets_the_recorded_pipeline():
    """The one rule: the checkpoint's pipeline, the config's model.enhancer keys over it."""
    from mmlowlight.apis.runner import _enhancer_pipeline_from_load_from
    from mmlowlight.models.enhancers import DEFAULT_CHECKPOINT
    cfg = load_runner_config(CONFIG)
    assert cfg.model.enhancer.get('denoiser') is None
    cfg.load_from = DEFAULT_CHECKPOINT
    _enhancer_pipeline_from_load_from(cfg)
    enhancer = cfg.model.enhancer
    assert enhancer['denoiser']['type'] == 'NoiseAdaptiveGuidedFilter'
    assert enhancer['exposure_control']['type'] == 'CurveExposureControl'
    # The training config's own scale (full resolution) wins over the recorded 12.
    assert enhancer['scale_factor'] == load_runner_config(CONFIG).model.enhancer.scale_factor

    untouched = load_runner_config(CONFIG)  # no load_from: the config as it is
    before = untouched.model.enhancer.to_dict()
    _enhancer_pipeline_from_load_from(untouched)
    assert untouched.model.enhancer.to_dict() == before
