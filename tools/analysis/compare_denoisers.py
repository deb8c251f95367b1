"""Which denoiser for the default enhancer: candidates measured side by side in one run.

    python tools/analysis/compare_denoisers.py [--checkpoint W.pth] [--json out.json]

Every row runs the same enhancer (``--checkpoint``, default: the official SGZ weights at scale
12, with ``CurveExposureControl`` so that only the denoiser differs) and one denoiser:
  none                  no denoising
  nagf s4 r2 / s8 r1 / s12 r1
                        NoiseAdaptiveGuidedFilter before the curve (scale, radius), strength
                        --strength, single-scale (detail_radius 0): coefficients at low
                        resolution, applied in the curve pass
  nagf s8 r1 two-scale  the same with detail_radius 1 (the default): ``a`` on the 3 x 3 mean,
                        part of the pixel's own detail added back
  guided s1 r8          the same filter at full resolution (radius 8): the "plain" guided filter
  bilateral after       OpenCV's bilateral filter on the enhanced 8-bit image (d 9, sigma colour
                        30, sigma space 5): not noise-adaptive
  nl-means after        OpenCV's fastNlMeansDenoisingColored on the enhanced image (h 10, 10;
                        7 / 21 windows): the classical strong denoiser, not noise-adaptive
Columns as in ``evaluate_enhancer.py`` (lol_val PSNR/SSIM, real-photo noise/brightness/clipping,
well-lit PSNR), plus the denoiser's own milliseconds at 1920x1080 (median of --repeats; for the
guided variants the PyTorch reference of the whole stage, i.e. what the fused pass replaces).
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Callable, Dict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
from cli_types import positive_float, positive_int  # noqa: E402

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # see tools/benchmark.py

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from evaluate_enhancer import model_method, night_sets, quality_row, well_lit_sets  # noqa: E402
from night_pairs import night_photos  # noqa: E402

from mmlowlight.apis import init_enhancer  # noqa: E402
from mmlowlight.apis.demo_data import demo_images, synthesize_low_light  # noqa: E402
from mmlowlight.apis.inference import to_model_input  # noqa: E402
from mmlowlight.models.denoisers import NoiseAdaptiveGuidedFilter  # noqa: E402
from mmlowlight.utils import write_json_atomic  # noqa: E402
from mmlowlight.utils.timing import median_seconds  # noqa: E402

#: Row name -> (scale, radius, detail_radius).
GUIDED = {'nagf s4 r2': (4, 2, 0), 'nagf s8 r1': (8, 1, 0), 'nagf s8 r1 two-scale': (8, 1, 1),
          'nagf s12 r1': (12, 1, 0), 'guided s1 r8': (1, 8, 0)}


def bilateral(rgb: np.ndarray) -> np.ndarray:
    return cv2.bilateralFilter(rgb, 9, 30, 5)


def nl_means(rgb: np.ndarray) -> np.ndarray:
    return cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(rgb), None, 10, 10, 7, 21)


POST_FILTERS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    'bilateral after': bilateral, 'nl-means after': nl_means}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='../shared/data')
    parser.add_argument('--checkpoint', default=None,
                        help='enhancer weights (default: DATA_ROOT/sgz_official/Epoch99.pth)')
    parser.add_argument('--strength', type=positive_float, default=2.5)
    parser.add_argument('--threads', type=positive_int, default=2)
    parser.add_argument('--repeats', type=positive_int, default=3)
    parser.add_argument('--only', nargs='*', help='row names to run (default: all)')
    parser.add_argument('--json')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = args.data_root
    checkpoint = args.checkpoint or osp.join(root, 'sgz_official', 'Epoch99.pth')
    control = dict(type='CurveExposureControl')
    base = init_enhancer(checkpoint=checkpoint, scale_factor=12, exposure_control=control,
                         denoiser=None)
    lit = well_lit_sets(root)
    night = night_sets(night_photos(root))
    frame = cv2.resize(demo_images()['coffee'], (1920, 1080), interpolation=cv2.INTER_CUBIC)
    frame = synthesize_low_light(frame)
    x = to_model_input(frame[None], 'cpu')
    with torch.inference_mode():
        factor_low = base.refine_low_res_factor(base.downscale(x), base.efe(base.downscale(x)))
    enhanced_frame = model_method(base)(frame)
    table = {}
    rows = ['none', *GUIDED, *POST_FILTERS]
    for name in args.only or rows:
        if name == 'none':
            run, ms = model_method(base), 0.0
        elif name in GUIDED:
            scale, radius, detail_radius = GUIDED[name]
            denoiser = dict(type='NoiseAdaptiveGuidedFilter', scale=scale, radius=radius,
                            strength=args.strength, detail_radius=detail_radius)
            model = init_enhancer(checkpoint=checkpoint, scale_factor=12,
                                  exposure_control=control, denoiser=denoiser)
            run = model_method(model)
            module = NoiseAdaptiveGuidedFilter(scale=scale, radius=radius,
                                               strength=args.strength,
                                               detail_radius=detail_radius)
            with torch.inference_mode():
                ms = median_seconds(lambda: module(x, factor_low), args.repeats) * 1e3
        else:
            post = POST_FILTERS[name]
            run = (lambda post: lambda rgb: post(model_method(base)(rgb)))(post)
            ms = median_seconds(lambda: post(enhanced_frame), args.repeats) * 1e3
        row = quality_row(run, root, lit, night)
        row['denoiser_ms_1080p'] = ms
        table[name] = row
        print(name, json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    keys = list(next(iter(table.values())))
    print('\n| denoiser | ' + ' | '.join(keys) + ' |')
    print('|---|' + '---|' * len(keys))
    for name, row in table.items():
        print(f'| {name} | ' + ' | '.join(f'{row[k]:.3f}' for k in keys) + ' |')
    print('load average:', ' '.join(f'{v:.2f}' for v in os.getloadavg()))
    if args.json:
        write_json_atomic(table, args.json)


if __name__ == '__main__':
    main()
