import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader

import mmlowlight  # noqa: F401  (installs the loader)
from mmlowlight.utils import load_checkpoint_file


def _runner_like_checkpoint(path):
    """What mmengine's Runner writes: numpy values and HistoryBuffers in the message hub."""
    hub = MessageHub('test_ckpt')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/lr', 1e-4)
    torch.save(dict(meta=dict(epoch=1, iter=np.int64(2), seed=np.array([1, 2])),
                    state_dict={'w': torch.ones(2)}, message_hub=hub.state_dict()), path)


def test_runner_checkpoint_loads_through_mmengine(tmp_path):
    path = str(tmp_path / 'iter_2.pth')
    _runner_like_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):  # what plain torch.load does on torch >= 2.6
        torch.load(path, weights_only=True)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and buffer.current() == 0.5
    assert ckpt['meta']['iter'] == 2


class _Exploit:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_arbitrary_code_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _Exploit()}, path)
    with pytest.raises(RuntimeError, match='evil.pth'):
        load_checkpoint_file(path)


def test_getattr_limited_to_history_buffer(tmp_path):
    path = str(tmp_path / 'getattr.pth')

    class _GetattrExploit:

        def __reduce__(self):
            # A step towards __init__.__globals__ (and from there any module).
            return (getattr, (HistoryBuffer, '__init__'))

    torch.save({'x': _GetattrExploit()}, path)
    with pytest.raises(RuntimeError, match='getattr'):
        load_checkpoint_file(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        CheckpointLoader.load_checkpoint('/nowhere.pth')
