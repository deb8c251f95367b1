"""tools/train.py with a NaN injected: the run stops, names iteration and term, saves no NaN
checkpoint (issue 12.4)."""
import glob
import os
import os.path as osp
import subprocess
import sys

import torch

from mmlowlight.utils import load_checkpoint_file
from tests.conftest import REPO_ROOT
from tests.test_datasets.helpers import write_folder

BASE = osp.join(REPO_ROOT, 'configs', 'sgz', 'sgz-noguide_dsc_adam-lr1e-4_bs8-256_1k_unpaired.py')


def test_injected_nan_gradient_stops_the_run(tmp_path):
    images = str(tmp_path / 'images')
    write_folder(images, ['a.png', 'b.png', 'c.png'], height=32, width=40)
    config = tmp_path / 'nan_at_iteration_3.py'
    config.write_text(
        f'_base_ = [{BASE!r}]\n'
        "custom_imports = dict(imports=['tests.test_engine.test_hooks.nan_losses'],\n"
        '                      allow_failed_imports=False)\n'
        "model = dict(losses=_base_.zero_reference_losses + [\n"
        "    dict(type='NonFiniteAtCallLossForTests', at_call=3, kind='gradient')])\n"
        'val_dataloader = val_cfg = val_evaluator = None\n')
    work_dir = str(tmp_path / 'work')
    result = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir', work_dir,
         '--cfg-options', f'train_dataloader.dataset.data_root={images}',
         'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
         'train_dataloader.dataset.pipeline.1.scale=(40,32)',
         'train_dataloader.dataset.pipeline.2.crop_size=24', 'train_cfg.max_iters=6',
         'default_hooks.checkpoint.interval=1',
         'default_hooks.checkpoint.max_keep_ckpts=10', 'default_hooks.logger.interval=1'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-5000:]
    assert 'Traceback' not in output, output[-5000:]
    last = output.strip().splitlines()[-1]
    assert last.startswith('train.py: error: training iteration 3: non-finite gradient of '), last
    assert 'from loss term loss_injected;' in last and 'weights are those of the previous' in last
    assert 'Iter(train) [2/6]' in output and 'Iter(train) [3/6]' not in output
    saved = sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, 'iter_*.pth')))
    assert saved == ['iter_1.pth', 'iter_2.pth']
    for name in saved:
        state = load_checkpoint_file(osp.join(work_dir, name))['state_dict']
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
