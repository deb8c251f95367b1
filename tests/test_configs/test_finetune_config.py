"""The fine-tuning recipe of the README (issue 14.5): the package's weights, the user's folder.

A short trial of ``tools/train.py`` with the config on tiny images: it starts from the default
weights, logs the loss with significant digits (14.7), and its result publishes to a weights
file that ``init_enhancer`` rebuilds as trained.
"""
import ast
import os
import os.path as osp
import re
import runpy
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmlowlight.apis import init_enhancer
from mmlowlight.models.enhancers import DEFAULT_CHECKPOINT
from mmlowlight.utils import load_checkpoint_file
from tests.conftest import REPO_ROOT
from tests.test_datasets.helpers import write_folder

CONFIG = osp.join(REPO_ROOT, 'configs', 'sgz',
                  'sgz-noguide-finetune_default-weights_adam-lr1e-4_bs8-256_200it_my-images.py')
TRIAL_ITERS = 10


def _base_of(path):
    tree = ast.parse(open(path).read())
    base = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], 'id', None) == '_base_')
    return [osp.basename(item) for item in ast.literal_eval(base)]


def test_config_follows_the_default_weights():
    cfg = Config.fromfile(CONFIG)
    meta = load_checkpoint_file(DEFAULT_CHECKPOINT)['meta']
    assert cfg.load_from == DEFAULT_CHECKPOINT
    enhancer = dict(cfg.model.enhancer)
    assert enhancer['type'] == 'SGZEnhancer'
    assert {k: enhancer[k] for k in meta['enhancer']} == meta['enhancer']
    assert _base_of(CONFIG) == [meta['config']], (
        f'the default weights were trained with {meta["config"]}: make it the _base_ of '
        f'{osp.basename(CONFIG)} so that fine-tuning keeps their recipe')
    init_enhancer(cfg, checkpoint=DEFAULT_CHECKPOINT)  # the architecture fits (strict load)
    assert cfg.val_dataloader is None and cfg.test_dataloader is None
    assert cfg.default_hooks.logger.interval <= TRIAL_ITERS // 2


@pytest.fixture(scope='module')
def trial(tmp_path_factory):
    """The README's short trial, on three tiny images."""
    root = tmp_path_factory.mktemp('finetune')
    images = str(root / 'my_dark_photos')
    write_folder(images, ['a.png', 'b.jpg', 'sub/c.png'], height=32, width=40)
    work_dir = str(root / 'work')
    result = subprocess.run(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir, '--cfg-options',
         f'train_dataloader.dataset.data_root={images}', f'train_cfg.max_iters={TRIAL_ITERS}',
         # tiny images and a 2-core machine:
         'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
         'train_dataloader.dataset.pipeline.1.scale=(40,32)',
         'train_dataloader.dataset.pipeline.2.crop_size=24'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    return work_dir, output


def test_trial_starts_from_the_default_weights(trial):
    work_dir, output = trial
    assert f'Load checkpoint from {DEFAULT_CHECKPOINT}' in output
    state = load_checkpoint_file(osp.join(work_dir, f'iter_{TRIAL_ITERS}.pth'))['state_dict']
    default = load_checkpoint_file(DEFAULT_CHECKPOINT)['state_dict']
    # lr 1e-4 for 10 Adam steps moves a weight by about 1e-3 at most; a random start by ~0.1.
    for key, value in default.items():
        assert (state[f'enhancer.{key}'] - value).abs().max() < 2e-3, key


def test_trial_logs_losses_with_significant_digits(trial):
    _, output = trial
    lines = [line for line in output.splitlines()
             if re.search(r'Iter\(train\) \[\s*\d+/10\]', line)]
    assert len(lines) >= 2, output[-3000:]  # every 5 iterations
    for name in ('loss_spatial', 'loss_smooth', 'loss_color', 'loss_exposure'):
        printed = re.search(rf'{name}: (\S+)', lines[-1]).group(1)
        if printed == '0':
            # An exact zero: the default recipe's ExposureRangeLoss is one-sided, 0 while every
            # patch of these tiny images lies in its well-exposed range.
            assert name == 'loss_exposure', lines[-1]
            continue
        assert float(printed) > 0, lines[-1]
        # Significant digits, not fixed decimals: '%.4f' would print 0.0003 for 3.3e-4 (one
        # digit); '%.4g' drops trailing zeros, so 3.300e-4 prints as 0.00033 (two). Only small
        # values tell the two apart: a loss of 0.09000 prints as 0.09 under '%.4g' too.
        if float(printed) < 0.01:
            assert len(printed.lstrip('0.').split('e')[0].replace('.', '')) >= 2, lines[-1]
    assert ': 0.0000 ' not in lines[-1] + ' '


def test_trial_result_publishes_and_enhances(trial, tmp_path, monkeypatch):
    work_dir, _ = trial
    out = str(tmp_path / 'my_weights.pth')
    monkeypatch.setattr(sys, 'argv', ['publish_enhancer.py', CONFIG,
                                      osp.join(work_dir, f'iter_{TRIAL_ITERS}.pth'), out])
    runpy.run_path(osp.join(REPO_ROOT, 'tools', 'model_converters', 'publish_enhancer.py'),
                   run_name='__main__')
    model = init_enhancer(checkpoint=out)
    expected = load_checkpoint_file(DEFAULT_CHECKPOINT)['meta']['enhancer']
    assert model.scale_factor == expected['scale_factor']
    out_img, _ = model(torch.rand(1, 3, 24, 32) * 0.2)
    assert torch.isfinite(out_img).all()
