"""Distributed data parallel on machines without a GPU (gloo), for mmengine's Runner.

mmengine 0.10.7's ``launcher='pytorch'`` path calls ``torch.cuda.set_device`` unconditionally
(``mmengine/dist/utils.py``) and so dies on a CPU-only torch; the Runner then wraps the model in
``MMDistributedDataParallel(device_ids=[LOCAL_RANK])``, which DDP rejects for CPU modules; and
``SyncBatchNorm`` (the default norm of many mmseg configs) has no CPU kernel. The Runner skips its
own ``init_dist`` when a process group already exists, and builds the wrapper from
``model_wrapper_cfg``: :func:`setup_cpu_distributed` uses exactly these two extension points, so
no third-party code is patched and GPU runs keep mmengine's stock path.
"""
import datetime
import inspect
import logging

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from torch.nn.parallel import DistributedDataParallel

from mmlowlight.registry import MODEL_WRAPPERS

__all__ = ['CPUDistributedDataParallel', 'setup_cpu_distributed']

_NO_BUFFER_SYNC = 'forward_sync_buffers' if 'forward_sync_buffers' in inspect.signature(
    DistributedDataParallel.__init__).parameters else 'broadcast_buffers'
_DDP_TYPES = ('MMDistributedDataParallel', 'CPUDistributedDataParallel',
              'mmlowlight.CPUDistributedDataParallel')


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for CPU modules.

    Forces ``device_ids=None`` (the Runner passes ``[LOCAL_RANK]``, which DDP only accepts for GPU
    modules), does not sync buffers in forward (mmengine's ``broadcast_buffers=False``), and reverts
    ``SyncBatchNorm`` layers to plain batch norm, which is the only way they run on CPU
    (statistics are then per process).

    Args:
        module (nn.Module): The model.
        detect_anomalous_params (bool): As in ``MMDistributedDataParallel``.
        **kwargs: Other ``DistributedDataParallel`` arguments (e.g. ``find_unused_parameters``).
    """

    def __init__(self, module: torch.nn.Module, detect_anomalous_params: bool = False,
                 **kwargs) -> None:
        kwargs['device_ids'] = None
        kwargs.pop('output_device', None)
        if 'broadcast_buffers' not in kwargs:
            # mmengine's default; torch >= 2.13 deprecates the name for forward_sync_buffers.
            kwargs[_NO_BUFFER_SYNC] = False
        super().__init__(module=revert_sync_batchnorm(module),
                         detect_anomalous_params=detect_anomalous_params, **kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare a ``launcher='pytorch'`` run on a machine without CUDA; no-op otherwise.

    Initialises the default process group with the gloo backend from torchrun's environment
    (``MASTER_ADDR``, ``MASTER_PORT``, ``RANK``, ``WORLD_SIZE``), records the backend in
    ``cfg.env_cfg.dist_cfg``, and switches ``model_wrapper_cfg`` (absent or
    ``MMDistributedDataParallel``) to :class:`CPUDistributedDataParallel`, keeping its other
    arguments and ``cfg.find_unused_parameters``.

    Args:
        cfg (Config): The full config, with ``launcher`` already set; modified in place.

    Returns:
        bool: Whether the CPU set-up was applied.
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    # Assign, not setdefault: Config stores a converted copy of a default it is given.
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = dict()
    dist_cfg = cfg.env_cfg.dist_cfg
    dist_cfg.backend = 'gloo'
    if not torch_dist.is_initialized():
        timeout = datetime.timedelta(seconds=dist_cfg.get('timeout', 1800))
        torch_dist.init_process_group(backend='gloo', timeout=timeout)
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    if wrapper.get('type', 'MMDistributedDataParallel') in _DDP_TYPES:
        wrapper['type'] = 'mmlowlight.CPUDistributedDataParallel'
        if 'find_unused_parameters' in cfg:
            wrapper.setdefault('find_unused_parameters', cfg.find_unused_parameters)
        cfg.model_wrapper_cfg = wrapper
    else:
        print_log(f'model_wrapper_cfg type {wrapper["type"]!r} kept as configured; it must '
                  'support CPU modules (device_ids=None)', logger='current', level=logging.WARNING)
    print_log(f'no CUDA device: distributed on CPU with gloo, rank '
              f'{torch_dist.get_rank()} of {torch_dist.get_world_size()}', logger='current')
    return True
