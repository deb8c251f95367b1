"""Let your frozen detector or segmentor choose the enhancer's settings, without labels.

    python tools/analysis/choose_enhancer_settings.py CONFIG CHECKPOINT \
        [--cfg-options test_dataloader.dataset.data_root=/path/to/night_images ...] \
        [--background-index N] [--work-dir DIR] [--out choice.json]

CONFIG is your model's config with mmlowlight's low-light preprocessor in front (e.g. one of
``configs/det`` / ``configs/seg``), its test dataloader on your unlabelled night images (labels
are not read). The model runs once per candidate setting
(:data:`mmlowlight.apis.ENHANCER_CANDIDATES`) with ``ModelConfidence`` as the evaluator; the
table of confidences and the winner's ``enhancer=dict(...)`` for your config are printed (and
written to ``--out`` as JSON). For a segmentor with a background class, ``--background-index``
leaves its pixels out of the confidence (the objects' confidence, which the background otherwise
swamps).
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
from cli_types import non_negative_int  # noqa: E402

import mmlowlight  # noqa: F401,E402  (registers modules)
from mmlowlight.apis import (ENHANCER_CANDIDATES, add_runner_arguments,  # noqa: E402
                             choose_enhancer_settings, load_runner_config)
from mmlowlight.apis.cli_errors import exit_on_user_error  # noqa: E402
from mmlowlight.utils import write_json_atomic  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='your model\'s config (low-light preprocessor in front)')
    parser.add_argument('checkpoint', help='your model\'s weights')
    parser.add_argument('--out', help='write the confidences and the choice to this JSON file')
    parser.add_argument('--background-index', type=non_negative_int,
                        help='segmentors: the background class, whose pixels the confidence '
                        'leaves out (default: every pixel counts)')
    return add_runner_arguments(parser).parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_runner_config(args.config, args.cfg_options, args.work_dir)
    with exit_on_user_error():
        chosen, confidences = choose_enhancer_settings(
            cfg, args.checkpoint, background_index=args.background_index)
    print('\nmodel confidence per enhancer setting (higher: surer of its predictions):')
    width = max(len(name) for name in confidences)
    for name, value in confidences.items():
        print(f'  {name:<{width}} {value:.4f}{"  <- chosen" if name == chosen else ""}')
    overrides = ENHANCER_CANDIDATES[chosen]
    keys = ''.join(f', {key}={value!r}' for key, value in overrides.items())
    print(f"\nin your config: model = dict(data_preprocessor=dict(enhancer=dict("
          f"type='mmlowlight.SGZEnhancer'{keys})))")
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        write_json_atomic(dict(chosen=chosen, enhancer=overrides, confidence=confidences),
                          args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
