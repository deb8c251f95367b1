"""Config preparation and Runner construction shared by ``tools/train.py`` and ``tools/test.py``.

Task-agnostic: works for mmlowlight, mmdet and mmseg configs alike (each keeps its own
``default_scope``); nothing here imports mmdet or mmseg.
"""
import argparse
import contextlib
import logging
import os
import os.path as osp
from typing import Iterator, Optional

import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmlowlight.engine import setup_cpu_distributed
from mmlowlight.models.enhancers.pipeline_config import resolve_enhancer_config
from mmlowlight.utils import CheckpointNotFoundError

__all__ = [
    'add_runner_arguments', 'parse_runner_arguments', 'load_runner_config', 'configure_training',
    'configure_testing', 'build_runner', 'distributed_session'
]


def add_runner_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options every tool shares (mmdet's names): ``--work-dir``, ``--cfg-options``,
    ``--launcher`` and ``--local-rank``/``--local_rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs such as '
        'train_dataloader.dataset.data_root=data/my_dark_images')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or --local_rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_runner_arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line and export ``LOCAL_RANK`` (torchrun sets it already)."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _drop_persistent_workers_without_workers(cfg: Config) -> None:
    """``num_workers=0`` (e.g. from ``--cfg-options``) with ``persistent_workers=True`` (common in
    OpenMMLab configs) makes torch's DataLoader raise; the option is meaningless then."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader and loader.get('num_workers', 0) == 0 and loader.get('persistent_workers'):
            loader.persistent_workers = False


def load_runner_config(config: str,
                       cfg_options: Optional[dict] = None,
                       work_dir: Optional[str] = None,
                       launcher: str = 'none') -> Config:
    """Read a config and apply the command line's common settings.

    ``work_dir`` priority: the argument, then the config's ``work_dir``, then
    ``./work_dirs/<config name>`` (as in mmdet's tools). ``persistent_workers`` is switched off
    for data loaders with ``num_workers=0``, where torch rejects it.

    Args:
        config (str): Config file path.
        cfg_options (dict, optional): ``--cfg-options`` overrides (merged last but work_dir).
        work_dir (str, optional): Output folder.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        Config: The config with ``launcher`` and ``work_dir`` set.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config!r} does not exist')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    _drop_persistent_workers_without_workers(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg


def configure_training(cfg: Config,
                       amp: bool = False,
                       resume: Optional[str] = None,
                       auto_scale_lr: bool = False) -> Config:
    """Apply ``--amp``, ``--resume`` and ``--auto-scale-lr`` as mmdet's ``tools/train.py`` does.

    Args:
        cfg (Config): From :func:`load_runner_config`; modified in place.
        amp (bool): Switch ``OptimWrapper`` to ``AmpOptimWrapper`` with dynamic loss scaling
            (mmengine supports it on GPU/NPU/MLU/MUSA devices only).
        resume (str, optional): ``'auto'`` resumes from the latest checkpoint in ``work_dir``;
            a path resumes from that checkpoint; None starts afresh.
        auto_scale_lr (bool): Enable the config's ``auto_scale_lr`` (linear scaling with the
            total batch size).

    Returns:
        Config: ``cfg``.
    """
    if amp:
        wrapper_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper_type == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in the config.', logger='current',
                      level=logging.WARNING)
        elif wrapper_type != 'OptimWrapper':
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got {wrapper_type!r}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr=dict(enable=..., '
                             'base_batch_size=...) in the config')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        cfg.resume = True
        cfg.load_from = resume
    return cfg


def configure_testing(cfg: Config, checkpoint: str) -> Config:
    """Make the Runner load ``checkpoint`` (a local path or a URL) for testing.

    Args:
        cfg (Config): From :func:`load_runner_config`; modified in place.
        checkpoint (str): Checkpoint to evaluate.

    Returns:
        Config: ``cfg``.
    """
    if not osp.isfile(checkpoint) and '://' not in checkpoint:
        raise CheckpointNotFoundError(checkpoint, 'no such checkpoint file')
    cfg.load_from = checkpoint
    return cfg


def build_runner(cfg: Config, dump_results_to: Optional[str] = None) -> Runner:
    """Build the Runner (``runner_type`` from the config, else mmengine's ``Runner``).

    On a machine without CUDA, a ``launcher='pytorch'`` run is first set up for gloo (see
    :func:`mmlowlight.engine.setup_cpu_distributed`); on GPUs mmengine's stock path is used.

    Args:
        cfg (Config): The prepared config.
        dump_results_to (str, optional): A ``.pkl`` file: the test predictions are also dumped
            there (mmengine ``DumpResults``, as mmdet's ``tools/test.py --out``).

    Returns:
        Runner: Ready for ``train()`` / ``test()``.
    """
    if dump_results_to is not None and not dump_results_to.endswith(('.pkl', '.pickle')):
        raise ValueError(f'results must be dumped to a .pkl or .pickle file, got '
                         f'{dump_results_to!r}')
    setup_cpu_distributed(cfg)
    _enhancer_pipeline_from_load_from(cfg)
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    if dump_results_to is not None:
        os.makedirs(osp.dirname(osp.abspath(dump_results_to)), exist_ok=True)
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=dump_results_to))
    return runner


def _enhancer_pipeline_from_load_from(cfg: Config) -> None:
    """A ``ZeroShotEnhancer`` that starts from a local ``load_from`` gets the pipeline that
    checkpoint records, with the config's ``model.enhancer`` keys overriding it (the rule of
    :mod:`mmlowlight.models.enhancers.pipeline_config`, as in the det/seg preprocessors)."""
    model, load_from = cfg.get('model') or {}, cfg.get('load_from')
    if (str(model.get('type', '')).split('.')[-1] != 'ZeroShotEnhancer'
            or not isinstance(load_from, str) or not osp.isfile(load_from)
            or not isinstance(model.get('enhancer'), dict)):
        return
    enhancer, built_from = resolve_enhancer_config(model.enhancer, load_from)
    model.enhancer = enhancer
    print_log(f'ZeroShotEnhancer: {built_from}', logger='current')


@contextlib.contextmanager
def distributed_session() -> Iterator[None]:
    """End a (distributed) run together: a barrier, then the process group is destroyed.

    mmengine leaves the group to interpreter shutdown. A rank that finished first then closes its
    gloo connections while another still talks to it, and that one aborts ("terminate called
    without an active exception"): torchrun reports a failed run although training finished.
    A barrier alone still left a window: the first rank out of it could close its connections
    while the barrier's last message to another was in flight (about 1 run in 10 on a loaded
    2-core machine). So each rank, out of the barrier, counts itself in the rendezvous store,
    and none destroys the group before all have. On an error both are skipped (the other ranks
    may never reach them).
    """
    finished = False
    try:
        yield
        finished = True
    finally:
        if dist.is_available() and dist.is_initialized():
            if finished:
                dist.barrier()
                _wait_for_all_ranks('mmlowlight/distributed_session/out_of_barrier')
            dist.destroy_process_group()


def _wait_for_all_ranks(key: str, poll_seconds: float = 0.01) -> None:
    """Count this rank in ``key`` of the default group's store and wait until every rank has
    (the store is TCP, not the group's gloo connections)."""
    import time

    from torch.distributed.distributed_c10d import _get_default_store
    store, world_size = _get_default_store(), dist.get_world_size()
    store.add(key, 1)
    while store.add(key, 0) < world_size:
        time.sleep(poll_seconds)
