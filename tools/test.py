"""Evaluate a checkpoint on a config's test set (mmdet-style command line, any task).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                                           [--cfg-options KEY=VALUE ...] [--launcher pytorch]
"""
import argparse
import os

from mmengine.config import DictAction

import mmlowlight  # noqa: F401  (registers modules; weights_only-safe checkpoint loader)
from mmlowlight.apis import build_runner, configure_testing, load_runner_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation logs')
    parser.add_argument('--out', help='dump the predictions to this pickle file (.pkl)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs such as '
        'test_dataloader.dataset.data_root=data/my_dark_images')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    configure_testing(cfg, args.checkpoint)
    build_runner(cfg, dump_results_to=args.out).test()


if __name__ == '__main__':
    main()
