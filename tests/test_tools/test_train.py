"""End-to-end runs of tools/train.py, tools/test.py and tools/dist_train.sh on tiny images."""
import os
import os.path as osp
import pickle
import socket
import subprocess
import sys

import pytest
import torch

from mmlowlight.utils import load_checkpoint_file
from tests.conftest import REPO_ROOT
from tests.test_datasets.helpers import write_folder

CONFIG = osp.join(REPO_ROOT, 'configs', 'sgz', 'sgz-noguide_dsc_adam-lr1e-4_bs8-256_1k_unpaired.py')


def _options(images: str, max_iters: int) -> list:
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={images}',
        f'val_dataloader.dataset.data_root={images}',
        f'test_dataloader.dataset.data_root={images}',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0',
        # Tiny images: no upscaling to 600x400 before the crop.
        'train_dataloader.dataset.pipeline.1.scale=(40,32)',
        'train_dataloader.dataset.pipeline.2.crop_size=24',
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    ]


def _run(args: list, env: dict = None) -> str:
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, **(env or {})))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    return output


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('dark_images'))
    write_folder(root, ['a.png', 'b.jpg', 'sub/c.png'], height=32, width=40)
    return root


def _iteration(checkpoint: str) -> int:
    return load_checkpoint_file(checkpoint)['meta']['iter']


def test_train_resume_and_test(images, tmp_path):
    work_dir = str(tmp_path / 'work')
    train = [sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir]
    output = _run(train + _options(images, max_iters=2))
    assert 'Iter(train) [2/2]' in output and 'exposure_error' in output
    assert _iteration(osp.join(work_dir, 'iter_2.pth')) == 2
    state = load_checkpoint_file(osp.join(work_dir, 'iter_2.pth'))['state_dict']
    assert any(k.startswith('enhancer.efe.blocks.') for k in state)
    # The config's visualisation hook wrote input | enhanced | factor panels during validation.
    panels = [f for _, _, files in os.walk(work_dir) for f in files if f.startswith('val_')]
    assert panels

    # --resume (no path: the latest checkpoint) continues at iteration 2 on torch >= 2.6.
    output = _run(train + ['--resume'] + _options(images, max_iters=4))
    assert 'resumed epoch: 0, iter: 2' in output and 'Iter(train) [4/4]' in output
    assert 'Iter(train) [1/4]' not in output
    assert _iteration(osp.join(work_dir, 'iter_4.pth')) == 4

    out_file = str(tmp_path / 'preds.pkl')
    output = _run([sys.executable, 'tools/test.py', CONFIG, osp.join(work_dir, 'iter_4.pth'),
                   '--work-dir', str(tmp_path / 'test'), '--out', out_file] +
                  _options(images, max_iters=4))
    assert 'Iter(test) [3/3]' in output and 'mean_level' in output
    with open(out_file, 'rb') as f:
        predictions = pickle.load(f)
    assert len(predictions) == 3 and predictions[0]['pred_img'].shape == (3, 32, 40)


@pytest.mark.skipif(not torch.distributed.is_available(), reason='torch without distributed')
def test_dist_train_two_cpu_processes(images, tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    work_dir = str(tmp_path / 'dist')
    output = _run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', work_dir] +
                  _options(images, max_iters=2),
                  env=dict(PYTHON=sys.executable, PORT=str(port), OMP_NUM_THREADS='1'))
    if not torch.cuda.is_available():
        assert 'distributed on CPU with gloo, rank 0 of 2' in output
    assert 'Iter(train) [2/2]' in output
    assert _iteration(osp.join(work_dir, 'iter_2.pth')) == 2
