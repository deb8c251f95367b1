"""Night-scene pairs from ``night_lights``: halos, veil, level, against the original night photo.

    python tools/analysis/night_pairs.py                      # default vs official, sheet PNG
    python tools/analysis/night_pairs.py --candidate new=path/to/weights.pth --sheet sheet.png

Each night photo of ``<data-root>/night_lights`` (validation only, never trained on) is darkened
deterministically at several exposures (linear light x0.08, x0.12, x0.2 by default) with the
physical capture model (``LowLightSimulator``: shot noise at 8,000 e- full well, 3 e- read noise;
seed 0; a 2.2 power-law encoding, or the sRGB function with ``--transfer srgb``), enhanced, and
compared with the original night photo:

  SSIM / PSNR     against the original (skimage, 8-bit)
  mean level      of the output in [0, 1] (the originals: about 0.26)
  dark channel    mean of the minimum over R, G, B in 15x15 windows, a standard haze measure:
                  a milky veil raises it (the originals: about 0.10)
  smoothed dark channel
                  the same after a Gaussian blur of 2 px: the veil with the noise averaged
                  out. Noise lowers the plain figure (each window's minimum picks the noise's
                  troughs), so a noisy output reads as less veiled than a clean one at the same
                  level (the originals: about 0.13)
  halo            error concentrated around the lamps (fog, colour clouds, rings): both images
                  divided by their mean level, the mean |RGB difference| in a ring 4-48 px
                  around the lights (original luminance >= 0.9) minus that beyond 48 px
                  (in units of the mean level; 0: as faithful near the lights as elsewhere)
  as-is PSNR      the night photos fed in undarkened: PSNR(input, output) (a night photo that
                  is already fine should come back nearly unchanged)

The simple baselines (auto gamma, CLAHE) and the dark input are reported too. A contact sheet
(original | dark | each method, one row per photo at the middle exposure) is written as PNG.

``--crops`` runs the same on the four quadrants of every photo instead (44 scenes): framings
the night rule was never tuned on, 18 of them without a lamp the rule sees (a lit road, a dark
sky), and a wider range of scene levels (0.07-0.46): a check on night photos not seen.
"""
import argparse
import glob
import os.path as osp
import sys
from typing import Callable, Dict, Iterator, List, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
import cv2  # noqa: E402
import numpy as np  # noqa: E402
from cli_types import number, parse_candidate, positive_int  # noqa: E402
from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402

#: The exposures of the pairs (linear light kept).
EXPOSURES = (0.08, 0.12, 0.2)
LIGHT_LEVEL = 0.9
Method = Callable[[np.ndarray], np.ndarray]


#: Image files the validation tools read.
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')


def image_paths(folder: str) -> List[str]:
    """The images in ``folder``, sorted; FileNotFoundError when there are none."""
    paths = sorted(p for p in glob.glob(osp.join(folder, '*'))
                   if osp.splitext(p)[1].lower() in IMAGE_EXTENSIONS)
    if not paths:
        raise FileNotFoundError(f'no images in {folder}')
    return paths


def lol_val_pairs(folder: str) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """(low, high) RGB uint8 of a LOL-layout folder (``low/`` and ``high/``, the same names),
    in sorted order (``lol_val_pairs``: validation only)."""
    from mmlowlight.apis import read_image
    for low in image_paths(osp.join(folder, 'low')):
        yield read_image(low).rgb, read_image(osp.join(folder, 'high', osp.basename(low))).rgb


def night_photos(root: str) -> List[Tuple[str, np.ndarray]]:
    """(name, RGB uint8) of every photo in ``root/night_lights``."""
    from mmlowlight.apis import read_image
    paths = sorted(p for p in glob.glob(osp.join(root, 'night_lights', '*'))
                   if osp.splitext(p)[1].lower() in ('.png', '.jpg', '.jpeg'))
    if not paths:
        raise FileNotFoundError(f'no night photos in {osp.join(root, "night_lights")}')
    return [(osp.basename(p), read_image(p).rgb) for p in paths]


def quadrant_crops(photos: List[Tuple[str, np.ndarray]]) -> List[Tuple[str, np.ndarray]]:
    """The four quadrants of every photo, ``(name-q0 .. name-q3, RGB)`` (top left, top right,
    bottom left, bottom right; odd sizes leave the last row or column out)."""
    crops = []
    for name, rgb in photos:
        half_h, half_w = rgb.shape[0] // 2, rgb.shape[1] // 2
        if half_h < 1 or half_w < 1:
            raise ValueError(f'{name}: {rgb.shape[1]}x{rgb.shape[0]} is too small to crop '
                             f'into quadrants')
        for index, (y, x) in enumerate(((0, 0), (0, half_w), (half_h, 0), (half_h, half_w))):
            crops.append((f'{name}-q{index}',
                          np.ascontiguousarray(rgb[y:y + half_h, x:x + half_w])))
    return crops


def night_pairs(photos: List[Tuple[str, np.ndarray]], exposures=EXPOSURES, seed: int = 0,
                transfer: str = 'power') -> List[Tuple[str, float, np.ndarray, np.ndarray]]:
    """(name, exposure, original, dark) for every photo and exposure, deterministic;
    ``transfer``: the simulated camera's transfer function (``LowLightSimulator``)."""
    from mmlowlight.datasets.synthetic import LowLightSimulator
    pairs = []
    for index, (name, rgb) in enumerate(photos):
        for k, exposure in enumerate(exposures):
            simulator = LowLightSimulator(exposure_range=(exposure, exposure),
                                          transfer=transfer)
            dark = simulator(rgb, np.random.default_rng([seed, index, k]))
            pairs.append((name, exposure, rgb, dark))
    return pairs


def luminance(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])) / 255


#: Gaussian sigma (px) of the smoothed dark channel.
VEIL_SMOOTHING = 2.0


def dark_channel(rgb: np.ndarray, window: int = 15, smoothing: float = 0.0) -> float:
    """Mean over the image of the minimum over R, G, B in ``window`` x ``window`` windows,
    after a Gaussian blur of ``smoothing`` px (0: none)."""
    if smoothing > 0:
        rgb = cv2.GaussianBlur(rgb, (0, 0), smoothing)
    darkest = rgb.min(axis=2)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    return float(cv2.erode(darkest, kernel).mean()) / 255


def halo(original: np.ndarray, output: np.ndarray, inner: int = 4, outer: int = 48) -> float:
    """Error concentrated around the lights: fog, colour clouds and rings the low-resolution
    maps bleed from a lamp into its surroundings; NaN when the photo holds no light.

    Both images are divided by their mean level (a global brightening is no error), then the
    mean absolute RGB difference in the ring ``inner``-``outer`` px around the lights (pixels
    whose original luminance is >= 0.9) minus the same beyond ``outer`` px: 0 when the output
    is as faithful near the lights as elsewhere.
    """
    lights = (luminance(original) >= LIGHT_LEVEL).astype(np.uint8)
    if not lights.any():
        return float('nan')

    def grown(radius):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        return cv2.dilate(lights, kernel) > 0

    ring = grown(outer) & ~grown(inner)
    far = ~grown(outer)
    if not ring.any() or not far.any():
        return float('nan')
    out = output.astype(np.float32) / max(float(output.mean()), 1.0)
    ref = original.astype(np.float32) / max(float(original.mean()), 1.0)
    error = np.abs(out - ref).mean(axis=2)
    return float(error[ring].mean() - error[far].mean())


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """skimage PSNR (8-bit); identical images count as 99 dB instead of infinity, so that means
    over images stay finite."""
    if np.array_equal(reference, image):
        return 99.0
    return float(peak_signal_noise_ratio(reference, image, data_range=255))


def night_row(run: Method, pairs, photos) -> Dict[str, float]:
    """The night figures of one method (means over the pairs; the as-is PSNR over ``photos``,
    NaN without any)."""
    ssim, psnrs, level, veil, smooth_veil, halos = [], [], [], [], [], []
    for _, _, original, dark in pairs:
        out = run(dark)
        ssim.append(structural_similarity(original, out, data_range=255, channel_axis=-1))
        psnrs.append(peak_signal_noise_ratio(original, out, data_range=255))
        level.append(out.mean() / 255)
        veil.append(dark_channel(out))
        smooth_veil.append(dark_channel(out, smoothing=VEIL_SMOOTHING))
        halos.append(halo(original, out))
    as_is = [psnr(rgb, run(rgb)) for _, rgb in photos]
    return dict(night_ssim=float(np.mean(ssim)), night_psnr=float(np.mean(psnrs)),
                night_level=float(np.mean(level)), night_dark_channel=float(np.mean(veil)),
                night_smooth_dark_channel=float(np.mean(smooth_veil)),
                night_halo=float(np.nanmean(halos)),
                night_as_is_psnr=float(np.mean(as_is)) if as_is else float('nan'))


def reference_row(pairs) -> Dict[str, float]:
    """The originals' own level and dark channels (what an output should come close to)."""
    originals = {name: rgb for name, _, rgb, _ in pairs}.values()
    return dict(night_level=float(np.mean([o.mean() / 255 for o in originals])),
                night_dark_channel=float(np.mean([dark_channel(o) for o in originals])),
                night_smooth_dark_channel=float(np.mean([
                    dark_channel(o, smoothing=VEIL_SMOOTHING) for o in originals])))


def contact_sheet(methods: Dict[str, Method], pairs, path: str, exposure: float,
                  height: int = 160) -> None:
    """Original | dark | each method, one row per photo at ``exposure``, written as PNG."""
    from mmlowlight.utils import atomic_write_bytes
    rows = []
    for name, e, original, dark in pairs:
        if e != exposure:
            continue
        tiles = [original, dark] + [run(dark) for run in methods.values()]
        scale = height / original.shape[0]
        size = (round(original.shape[1] * scale), height)
        rows.append(np.concatenate([cv2.resize(t, size, interpolation=cv2.INTER_AREA)
                                    for t in tiles], axis=1))
    sheet = np.concatenate(rows, axis=0)
    ok, png = cv2.imencode('.png', cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:
        raise SystemExit(f'error: could not encode {path}')
    atomic_write_bytes(path, png.tobytes())


def validation_parser(doc: str) -> argparse.ArgumentParser:
    """The command line of a validation tool: its docstring as help, ``--data-root`` and
    ``--official`` (the official weights, by default under the data root)."""
    parser = argparse.ArgumentParser(description=doc.split('\n')[0],
                                     epilog=doc.split('\n', 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data-root', default='../shared/data')
    parser.add_argument('--official', default=None,
                        help='official weights (default: DATA_ROOT/sgz_official/Epoch99.pth)')
    return parser


def parse_args() -> argparse.Namespace:
    parser = validation_parser(__doc__)
    parser.add_argument('--candidate', action='append', type=parse_candidate, default=[],
                        metavar='NAME=PATH[:JSON]',
                        help='weights to measure (repeatable; empty PATH: the package '
                        'default) and init_enhancer overrides; default: the package default '
                        'weights as "default"')
    parser.add_argument('--exposures', type=number(0, 1, low_open=True), nargs='+',
                        default=list(EXPOSURES))
    parser.add_argument('--seed', type=number(0, integer=True), default=0)
    parser.add_argument('--transfer', choices=('power', 'srgb'), default='power',
                        help='the simulated camera\'s transfer function: the 2.2 power law '
                        '(default) or the sRGB function, linear near black')
    parser.add_argument('--sheet', default='night_pairs_sheet.png',
                        help='contact sheet PNG (default: ./night_pairs_sheet.png)')
    parser.add_argument('--crops', action='store_true',
                        help='the four quadrants of every photo instead of the whole photos')
    parser.add_argument('--threads', type=positive_int, default=2)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import torch

    from mmlowlight.apis import enhance_batch, init_enhancer
    from mmlowlight.apis.classic_baselines import CLASSIC_BASELINES
    torch.set_num_threads(args.threads)
    photos = night_photos(args.data_root)
    if args.crops:
        photos = quadrant_crops(photos)
    pairs = night_pairs(photos, tuple(args.exposures), args.seed, args.transfer)
    official = args.official or osp.join(args.data_root, 'sgz_official', 'Epoch99.pth')
    models = {'official': init_enhancer(checkpoint=official)}
    for name, path, overrides in args.candidate or [('default', None, {})]:
        models[name] = init_enhancer(checkpoint=path, **overrides)
    methods: Dict[str, Method] = {
        name: (lambda rgb, m=model: enhance_batch(m, rgb[None])[0])
        for name, model in models.items()}
    methods.update({'dark input': lambda rgb: rgb, **CLASSIC_BASELINES})
    table = {'original night photos': reference_row(pairs)}
    table.update({name: night_row(run, pairs, photos) for name, run in methods.items()})
    keys = list(table['official'])
    print(f'{len(photos)} night {"photo quadrants" if args.crops else "photos"} x exposures '
          f'{args.exposures}, seed {args.seed}, '
          f'{args.transfer} transfer\n')
    print('| | ' + ' | '.join(keys) + ' |')
    print('|---|' + '---|' * len(keys))
    for name, row in table.items():
        print(f'| {name} | ' + ' | '.join(f'{row[k]:.3f}' if k in row else '' for k in keys)
              + ' |')
    middle = sorted(args.exposures)[len(args.exposures) // 2]
    contact_sheet({k: methods[k] for k in models}, pairs, args.sheet, middle)
    print(f'\ncontact sheet ({middle:g} exposure): {args.sheet}')


if __name__ == '__main__':
    main()
