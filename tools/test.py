"""Evaluate a checkpoint on a config's test set (mmdet-style command line, any task).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
                                           [--cfg-options KEY=VALUE ...] [--launcher pytorch]
"""
import argparse

import mmlowlight  # noqa: F401  (registers modules; weights_only-safe checkpoint loader)
from mmlowlight.apis import (add_runner_arguments, build_runner, configure_testing,
                             distributed_session, load_runner_config, parse_runner_arguments)
from mmlowlight.apis.cli_errors import exit_on_user_error


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the predictions to this pickle file (.pkl)')
    return parse_runner_arguments(add_runner_arguments(parser))


def main() -> None:
    args = parse_args()
    cfg = load_runner_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    with exit_on_user_error():  # a bad checkpoint: one line naming it, no traceback
        configure_testing(cfg, args.checkpoint)
        with distributed_session():
            build_runner(cfg, dump_results_to=args.out).test()


if __name__ == '__main__':
    main()
