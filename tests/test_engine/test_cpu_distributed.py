import socket

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from torch import nn

from mmlowlight.engine import CPUDistributedDataParallel, setup_cpu_distributed


def test_no_op_without_pytorch_launcher():
    cfg = Config(dict(launcher='none'))
    assert setup_cpu_distributed(cfg) is False
    assert 'model_wrapper_cfg' not in cfg


@pytest.fixture
def single_process_env(monkeypatch):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    for key, value in dict(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK='0',
                           WORLD_SIZE='1', LOCAL_RANK='0').items():
        monkeypatch.setenv(key, value)
    yield
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU set-up is a no-op with CUDA')
def test_gloo_group_and_wrapper_config(single_process_env):
    cfg = Config(dict(launcher='pytorch', find_unused_parameters=True,
                      model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                                             detect_anomalous_params=False)))
    assert setup_cpu_distributed(cfg) is True
    assert torch_dist.is_initialized() and torch_dist.get_backend() == 'gloo'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='mmlowlight.CPUDistributedDataParallel',
                                         detect_anomalous_params=False,
                                         find_unused_parameters=True)

    # The Runner passes device_ids=[LOCAL_RANK]; the wrapper drops it and reverts SyncBN.
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4))
    wrapped = CPUDistributedDataParallel(module=model, device_ids=[0])
    assert wrapped.device_ids is None
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in wrapped.modules())
    assert wrapped(torch.rand(2, 3, 8, 8)).shape == (2, 4, 6, 6)
