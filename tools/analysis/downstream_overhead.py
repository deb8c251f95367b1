"""Share of a detector's inference time spent in the SGZ enhancer of its data preprocessor.

Builds a downstream config (default: RetinaNet-R50-FPN with a frozen SGZ enhancer) with random
weights (timing does not depend on them; nothing is downloaded), feeds one random image of the
given size through ``model.test_step`` (data preprocessor + detector, as ``Runner.test`` and
``inference_detector`` do) and times, with the same input:

* ``total``: the whole ``test_step`` with the low-light preprocessor;
* ``enhance``: the preprocessor's enhancement step alone
  (``LowLightPreprocessorMixin.enhance_normalized`` on the normalised, padded batch).

The share is ``enhance / total``; medians over ``--repeats`` runs after ``--warmup`` runs.
``--timer cpu`` measures the process's CPU time instead of wall time: on a machine shared with
other jobs it still counts only this process's work (use it with ``--threads 1``).
Example::

    python tools/analysis/downstream_overhead.py --scale-factors 12 1 --repeats 5

The result is printed and, with ``--out``, written as JSON (to a temporary file, then renamed).
"""
import argparse
import os.path as osp
import sys
import time
from typing import Callable, Dict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
import torch
from cli_types import non_negative_int, number, positive_int  # noqa: E402
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

import mmlowlight  # noqa: F401  (registers the preprocessors)
from mmlowlight.models.data_preprocessors import LowLightPreprocessorMixin
from mmlowlight.utils import write_json_atomic
from mmlowlight.utils.timing import median_seconds

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO_ROOT, 'configs', 'det',
                          'retinanet_r50_fpn_sgz-frozen_1x_exdark.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='a downstream config with an SGZ data preprocessor')
    parser.add_argument('--size', type=positive_int, nargs=2, default=(1333, 800),
                        metavar=('WIDTH', 'HEIGHT'), help='input image size')
    parser.add_argument('--scale-factors', type=number(1), nargs='+', default=[12, 1],
                        help="the enhancer's EFE downscaling factors to time")
    parser.add_argument('--repeats', type=positive_int, default=5, help='timed runs per setting')
    parser.add_argument('--warmup', type=non_negative_int, default=1,
                        help='untimed runs per setting')
    parser.add_argument('--threads', type=positive_int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--timer', choices=['wall', 'cpu'], default='wall',
                        help='wall-clock time, or CPU time of this process')
    parser.add_argument('--out', help='write the figures to this JSON file')
    args = parser.parse_args()
    if args.repeats < 1 or args.warmup < 0:
        parser.error('--repeats must be >= 1 and --warmup >= 0')
    return args


def build_model(config: str, device: torch.device) -> torch.nn.Module:
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    cfg.model.pop('pretrained', None)
    cfg.model.data_preprocessor.enhancer_checkpoint = False  # random weights time the same
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model = MODELS.build(cfg.model).to(device).eval()
    if not isinstance(model.data_preprocessor, LowLightPreprocessorMixin):
        raise ValueError(f'{config}: model.data_preprocessor is '
                         f'{type(model.data_preprocessor).__name__}, not an SGZ preprocessor')
    return model


TIMERS = dict(wall=time.perf_counter, cpu=time.process_time)


def measure(model: torch.nn.Module, width: int, height: int, scale_factor: float,
            repeats: int, warmup: int, timer: Callable[[], float]) -> Dict[str, float]:
    """Time ``test_step`` and the enhancement alone for one EFE scale factor."""
    from mmdet.structures import DetDataSample  # the default config is an mmdet one

    preprocessor = model.data_preprocessor
    preprocessor.enhancer.scale_factor = scale_factor
    image = torch.randint(0, 60, (3, height, width), dtype=torch.uint8)
    meta = dict(img_shape=(height, width), ori_shape=(height, width), scale_factor=(1., 1.))

    def data() -> dict:
        return dict(inputs=[image], data_samples=[DetDataSample(metainfo=meta)])

    with torch.no_grad():
        total = median_seconds(lambda: model.test_step(data()), repeats, warmup, timer)
        batch = preprocessor(data())  # the enhanced batch has the normalised batch's shape
        enhance = median_seconds(
            lambda: preprocessor.enhance_normalized(batch['inputs'], [(height, width)]),
            repeats, warmup, timer)
    return dict(scale_factor=scale_factor, total_s=total, enhance_s=enhance,
                share=enhance / total)


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    model = build_model(args.config, torch.device('cpu'))
    width, height = args.size
    rows = [measure(model, width, height, s, args.repeats, args.warmup, TIMERS[args.timer])
            for s in args.scale_factors]
    print(f'{osp.basename(args.config)}, {width}x{height}, CPU, {torch.get_num_threads()} '
          f'threads, {args.timer} time, median of {args.repeats}')
    print(f'{"scale_factor":>12} {"test_step s":>12} {"enhancer s":>11} {"share":>7}')
    for row in rows:
        print(f'{row["scale_factor"]:>12g} {row["total_s"]:>12.3f} {row["enhance_s"]:>11.4f} '
              f'{100 * row["share"]:>6.2f}%')
    if args.out:
        write_json_atomic(dict(config=args.config, width=width, height=height,
                               threads=torch.get_num_threads(), timer=args.timer,
                               repeats=args.repeats,
                               results=rows), args.out, indent=2)


if __name__ == '__main__':
    main()
