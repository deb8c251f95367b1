"""The command-line tools end a bad checkpoint or device in one line, without a traceback.

Issue 14.2 / 14.7: a truncated ``.pth`` gave a bare ``OSError: [Errno 22] Invalid argument``, a
file that is no checkpoint a traceback passing on torch's advice to disable ``weights_only``,
and ``--device cuda`` on a CPU-only torch ``AssertionError: Torch not compiled with CUDA``.
"""
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch

from mmlowlight.models.enhancers import SGZEnhancer
from tests.conftest import REPO_ROOT
from tests.test_datasets.helpers import write_folder

CONFIG = osp.join(REPO_ROOT, 'configs', 'sgz', 'sgz-noguide_dsc_adam-lr1e-4_bs8-256_1k_unpaired.py')


@pytest.fixture(scope='module')
def bad_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('bad_checkpoints')
    good = root / 'good.pth'
    torch.save(dict(state_dict=SGZEnhancer().state_dict(), meta={}), str(good))
    (root / 'truncated.pth').write_bytes(good.read_bytes()[:20000])
    (root / 'photo.pth').write_bytes(b'\xff\xd8\xff\xe0' + bytes(300))
    write_folder(str(root / 'images'), ['a.png'], height=32, width=40)
    return {name: str(root / name) for name in ('truncated.pth', 'photo.pth', 'images')}


def _run(args, monkeypatch, capsys):
    """Run a tool in this process, as ``python <tool> args`` would (an exception that escapes
    is a traceback for the user, and fails the test)."""
    monkeypatch.setattr(sys, 'argv', args)
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(osp.join(REPO_ROOT, args[0]), run_name='__main__')
    captured = capsys.readouterr()
    return info.value.code, captured.out + captured.err


def _run_subprocess(args):
    result = subprocess.run([sys.executable] + args, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def _assert_one_line_error(code, output, tool, words):
    assert code == 1, output[-3000:]
    assert 'Traceback' not in output, output[-3000:]
    assert 'weights_only` set to `False' not in output and 'weights_only=False' not in output
    last = output.strip().splitlines()[-1]
    assert last.startswith(f'{tool}: error: ') and words in last, last


@pytest.mark.parametrize('tool,args,bad,words', [
    ('enhance.py', ['{images}', '-o', '{out}', '--checkpoint', '{bad}'], 'truncated.pth',
     'truncated.pth: is truncated (20,000 bytes'),
    ('test.py', [CONFIG, '{bad}', '--work-dir', '{out}', '--cfg-options',
                 'test_dataloader.dataset.data_root={images}', 'test_dataloader.num_workers=0'],
     'photo.pth',
     'photo.pth: is not a PyTorch checkpoint: it looks like a JPEG image'),
    ('convert_official.py', ['{bad}', '{out}/x.pth'], 'photo.pth', 'looks like a JPEG image'),
    ('export_onnx.py', ['--checkpoint', '{bad}', '-o', '{out}/x.onnx'], 'truncated.pth',
     'is truncated'),
    ('publish_enhancer.py', [CONFIG, '{bad}', '{out}/x.pth'], 'photo.pth', 'JPEG image'),
])
def test_bad_checkpoint(bad_files, tmp_path, monkeypatch, capsys, tool, args, bad, words):
    script = {'export_onnx.py': 'tools/deploy/export_onnx.py',
              'publish_enhancer.py': 'tools/model_converters/publish_enhancer.py'}.get(
                  tool, f'tools/{tool}')
    fill = dict(bad=bad_files[bad], images=bad_files['images'], out=str(tmp_path))
    code, output = _run([script] + [a.format(**fill) for a in args], monkeypatch, capsys)
    _assert_one_line_error(code, output, tool, words)


def test_train_load_from_truncated(bad_files, tmp_path):
    """A real ``python tools/train.py`` process: the Runner's load_from goes through our
    loader, and the error surfaces from inside mmengine without a traceback."""
    images = bad_files['images']
    code, output = _run_subprocess([
        'tools/train.py', CONFIG, '--work-dir', str(tmp_path), '--cfg-options',
        f'load_from={bad_files["truncated.pth"]}', f'train_dataloader.dataset.data_root={images}',
        'train_dataloader.num_workers=0', f'val_dataloader.dataset.data_root={images}',
        'val_dataloader.num_workers=0', f'test_dataloader.dataset.data_root={images}',
        'test_dataloader.num_workers=0'])
    _assert_one_line_error(code, output, 'train.py', 'truncated.pth: is truncated')


def test_enhance_device_not_available(bad_files, tmp_path, monkeypatch, capsys):
    if torch.cuda.is_available():
        device, words = f'cuda:{torch.cuda.device_count()}', 'does not exist'
    else:
        device, words = 'cuda', 'is built without CUDA; available: cpu'
    code, output = _run(['tools/enhance.py', bad_files['images'], '-o', str(tmp_path),
                         '--device', device], monkeypatch, capsys)
    _assert_one_line_error(code, output, 'enhance.py', f"device '{device}' ")
    assert words in output
