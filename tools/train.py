"""Train a model from a config (mmdet-style command line; any OpenMMLab task's config works).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--auto-scale-lr]
                                 [--cfg-options KEY=VALUE ...] [--launcher pytorch]

Distributed: ``tools/dist_train.sh CONFIG NPROC`` (torchrun); without a GPU the processes talk
over gloo (see ``mmlowlight.engine.setup_cpu_distributed``).
"""
import argparse

import mmlowlight  # noqa: F401  (registers modules; weights_only-safe checkpoint loader)
from mmlowlight.apis import (add_runner_arguments, build_runner, configure_training,
                             distributed_session, load_runner_config, parse_runner_arguments)
from mmlowlight.apis.cli_errors import exit_on_user_error


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic mixed precision training (GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='enable automatically scaling LR with the total batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a path, from the latest checkpoint in the '
        'work dir')
    return parse_runner_arguments(add_runner_arguments(parser))


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    configure_training(cfg, amp=args.amp, resume=args.resume, auto_scale_lr=args.auto_scale_lr)
    # A bad load_from/--resume checkpoint or a run turned NaN: one line naming it, no traceback.
    with exit_on_user_error(), distributed_session():
        build_runner(cfg).train()


if __name__ == '__main__':
    main()
