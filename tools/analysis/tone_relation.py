"""How a reference's tones relate to its dark capture, on real and simulated pairs.

    python tools/analysis/tone_relation.py                # default vs official, all pair sets
    python tools/analysis/tone_relation.py --scenes 120 --json tone.json

For every pair (dark capture, reference) the slope of log reference luminance against log dark
luminance, both blurred (Gaussian, 4 px) so that noise does not flatten it, over the pixels
where the dark capture is above the noise floor (>= 0.01) and the reference is neither black
(> 0.02) nor clipped (< 0.95): 1 when the reference is an exposure change of the capture (one
gain in linear light, under a power-law encoding), below 1 when the reference has less contrast
than the capture (shadows lifted more than the highlights: what a concave curve does). The
same slope of each method's output against the dark capture says how much of the capture's
contrast it keeps. Median and 10th / 90th percentile over the pairs of each set:

  lol_val_pairs   40 real LOL pairs (validation only): a short and a long exposure of a room
  night pairs     ``night_lights`` photos darkened by ``LowLightSimulator`` (``night_pairs.py``:
                  x0.08 / x0.12 / x0.2), validation only
  night scenes    the downstream benchmark's scenes (``mmlowlight.datasets.synthetic``, seed
                  ``--seed``) and their dark copies at mean grey level 5-40, encoded with
                  the power law (the benchmark's default) and with the sRGB function
                  (``--transfer srgb``)
  demo photos     ``make demo``'s inputs (scikit-image photos at 3 % exposure)

The enhancer cannot meet both kinds at once with one rule: the LOL references want the
capture's contrast compressed, the simulated pairs want it kept (see docs/en/benchmarks.md).
Validation data only: nothing here trains or tunes a model.
"""
import argparse
import os.path as osp
import sys
from typing import Callable, Dict, Iterator, List, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/analysis/: night_pairs
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from cli_types import number, positive_int  # noqa: E402
from night_pairs import (lol_val_pairs, luminance, night_pairs, night_photos,  # noqa: E402
                         validation_parser)

Pair = Tuple[np.ndarray, np.ndarray]  # (dark capture, reference), RGB uint8
Method = Callable[[np.ndarray], np.ndarray]
#: Gaussian sigma (px) before the fit, and the fit's valid range of levels.
BLUR = 4.0
NOISE_FLOOR = 0.01
REFERENCE_RANGE = (0.02, 0.95)


def tone_slope(dark: np.ndarray, reference: np.ndarray, blur: float = BLUR) -> float:
    """Least-squares slope of log luminance of ``reference`` against that of ``dark``.

    Args:
        dark (np.ndarray): (H, W, 3) uint8 RGB, the capture.
        reference (np.ndarray): (H, W, 3) uint8 RGB of the same size.
        blur (float): Gaussian sigma in pixels applied to both luminances first.

    Returns:
        float: The slope (1: an exposure change), NaN with fewer than 100 valid pixels or
        no spread in the capture's tones.
    """
    if dark.shape != reference.shape:
        raise ValueError(f'dark and reference differ in shape: {dark.shape} vs '
                         f'{reference.shape}')
    x = cv2.GaussianBlur(luminance(dark), (0, 0), blur).ravel()
    y = cv2.GaussianBlur(luminance(reference), (0, 0), blur).ravel()
    valid = (x >= NOISE_FLOOR) & (y > REFERENCE_RANGE[0]) & (y < REFERENCE_RANGE[1])
    if valid.sum() < 100:
        return float('nan')
    lx, ly = np.log(x[valid]), np.log(y[valid])
    spread = lx.var()
    if spread < 1e-6:
        return float('nan')
    return float(((lx - lx.mean()) * (ly - ly.mean())).mean() / spread)


def lol_pairs(root: str) -> Iterator[Pair]:
    return lol_val_pairs(osp.join(root, 'lol_val_pairs'))


def night_photo_pairs(root: str) -> Iterator[Pair]:
    for _, _, original, dark in night_pairs(night_photos(root)):
        yield dark, original


def night_scene_pairs(count: int, seed: int, transfer: str = 'power') -> Iterator[Pair]:
    """The downstream benchmark's scenes (its train split) and captures (its ``--transfer``),
    in memory."""
    from mmlowlight.datasets.synthetic import LowLightSimulator, captured_night_scenes
    simulator = LowLightSimulator(transfer=transfer)
    for scene, dark in captured_night_scenes(count, seed, simulator=simulator):
        yield dark, scene.normal_light(simulator)


def demo_pairs() -> Iterator[Pair]:
    from mmlowlight.apis.demo_data import demo_inputs
    for original, dark in demo_inputs().values():
        yield dark, original


def summary(values: List[float]) -> str:
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return 'n/a'
    q10, median, q90 = np.quantile(values, (0.1, 0.5, 0.9))
    return f'{median:.2f} ({q10:.2f}-{q90:.2f})'


def parse_args() -> argparse.Namespace:
    parser = validation_parser(__doc__)
    parser.add_argument('--scenes', type=positive_int, default=60,
                        help='night scenes to render (default: 60)')
    parser.add_argument('--seed', type=number(0, integer=True), default=0)
    parser.add_argument('--threads', type=positive_int, default=2)
    parser.add_argument('--json', default=None, help='also write the slopes as JSON here')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import torch

    from mmlowlight.apis import enhance_batch, init_enhancer
    from mmlowlight.apis.classic_baselines import CLASSIC_BASELINES
    from mmlowlight.utils import write_json_atomic
    torch.set_num_threads(args.threads)
    root = args.data_root
    official = args.official or osp.join(root, 'sgz_official', 'Epoch99.pth')
    methods: Dict[str, Method] = {
        name: (lambda rgb, m=model: enhance_batch(m, rgb[None])[0])
        for name, model in (('official', init_enhancer(checkpoint=official)),
                            ('default', init_enhancer()))}
    methods['auto gain'] = CLASSIC_BASELINES['auto gain']
    sets = {'lol_val_pairs (real)': lambda: lol_pairs(root),
            'night pairs (simulated)': lambda: night_photo_pairs(root),
            'night scenes (simulated)': lambda: night_scene_pairs(args.scenes, args.seed),
            'night scenes, sRGB camera (simulated)': lambda: night_scene_pairs(
                args.scenes, args.seed, 'srgb'),
            'demo photos (simulated)': demo_pairs}
    columns = ['reference'] + list(methods)
    slopes: Dict[str, Dict[str, List[float]]] = {}
    for name, pairs in sets.items():
        slopes[name] = {column: [] for column in columns}
        for dark, reference in pairs():
            slopes[name]['reference'].append(tone_slope(dark, reference))
            for method, run in methods.items():
                slopes[name][method].append(tone_slope(dark, run(dark)))
    print('slope of log luminance against the dark capture\'s: median (10th-90th percentile)\n')
    print('| pairs | ' + ' | '.join(columns) + ' |')
    print('|---|' + '---|' * len(columns))
    for name, row in slopes.items():
        count = len(row['reference'])
        print(f'| {name}, {count} | ' + ' | '.join(summary(row[c]) for c in columns) + ' |')
    if args.json:
        write_json_atomic(slopes, args.json)


if __name__ == '__main__':
    main()
