import os.path as osp
import subprocess
import sys

import torch

from mmlowlight.apis import init_enhancer
from tests.conftest import REPO_ROOT


def test_convert_official(tmp_path, official_weights):
    dst = tmp_path / 'sub' / 'sgz_official.pth'
    result = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'convert_official.py'),
         official_weights, str(dst)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dst.parent.iterdir()) == ['sgz_official.pth']  # no temp left
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['enhancer'] == dict(conv_type='dsc', channels=32, shared_factor=True,
                                            scale_factor=12)
    assert init_enhancer(checkpoint=str(dst)).scale_factor == 12
    converted = init_enhancer(checkpoint=str(dst))
    original = init_enhancer(checkpoint=official_weights)
    for key, value in original.state_dict().items():
        assert torch.equal(converted.state_dict()[key], value)


def test_convert_rejects_non_official(tmp_path):
    src = tmp_path / 'other.pth'
    torch.save({'backbone.weight': torch.zeros(1)}, src)
    result = subprocess.run(
        [sys.executable, osp.join(REPO_ROOT, 'tools', 'convert_official.py'), str(src),
         str(tmp_path / 'out.pth')], capture_output=True, text=True)
    assert result.returncode != 0
    assert 'other.pth: not an official SGZ state dict' in result.stderr
    assert not (tmp_path / 'out.pth').exists()
