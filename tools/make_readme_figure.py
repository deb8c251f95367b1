"""Regenerate the README's before/after strip (``docs/en/_static/before_after.png``).

    python tools/make_readme_figure.py [--out docs/en/_static/before_after.png]

Rows: the ``make demo`` inputs (coffee, astronaut: scikit-image photos darkened to 3 % exposure
with shot and read noise) and a night scene (the rocket photo lit by two lamps, captured dark with
:class:`LowLightSimulator`); columns: the dark input and the package's default enhancer. Only
data that ships with scikit-image: anyone can rebuild the figure.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/: cli_types
from cli_types import positive_int  # noqa: E402

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default=osp.join(REPO_ROOT, 'docs', 'en', '_static',
                                                  'before_after.png'))
    parser.add_argument('--height', type=positive_int, default=220,
                        help='height of the widest row in pixels; the others are scaled to '
                        'its width (default: 220)')
    return parser.parse_args(argv)


def night_scene():
    """The rocket photo at night: dimmed, two lamps with a glow, then a dark, noisy capture."""
    import numpy as np
    from skimage import data

    from mmlowlight.datasets.synthetic import LowLightSimulator
    linear = (data.rocket().astype(np.float32) / 255)**2.2 * 0.5
    height, width = linear.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for cx, cy, colour in ((0.18, 0.25, (1.0, 0.85, 0.6)), (0.82, 0.35, (1.0, 0.3, 0.2))):
        dist2 = (xx - cx * width)**2 + (yy - cy * height)**2
        light = 40 * (dist2 < 36) + 1.5 * np.exp(-dist2 / (2 * 25**2))
        linear += light[..., None] * np.array(colour, np.float32)
    simulator = LowLightSimulator()
    rng = np.random.default_rng(0)
    return simulator.capture_linear(linear, rng, simulator.exposure_for_level(linear, 14.0))


def main(argv=None) -> int:
    args = parse_args(argv)
    import cv2
    import numpy as np

    from mmlowlight.apis import enhance, init_enhancer
    from mmlowlight.apis.demo_data import demo_inputs
    from mmlowlight.utils import atomic_write_bytes
    model = init_enhancer()
    darks = [dark for name, (_, dark) in demo_inputs().items() if name != 'chelsea']
    darks.append(night_scene())
    pairs = [np.concatenate([dark, enhance(model, dark)], axis=1) for dark in darks]
    # Every row as wide as the widest at --height (a square photo's row becomes taller): no
    # white gaps. One resize per row, straight from the full-size pair.
    width = max(round(pair.shape[1] * args.height / pair.shape[0]) for pair in pairs)
    rows = [cv2.resize(pair, (width, round(pair.shape[0] * width / pair.shape[1])),
                       interpolation=cv2.INTER_AREA) for pair in pairs]
    strip = np.concatenate([np.pad(row, ((0, 4), (0, 0), (0, 0)), constant_values=255)
                            for row in rows], axis=0)
    ok, png = cv2.imencode('.png', cv2.cvtColor(strip, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise SystemExit('error: could not encode the figure')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    atomic_write_bytes(args.out, png.tobytes())
    print(f'{args.out}: {strip.shape[1]}x{strip.shape[0]}, {len(png) // 1024} KB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
