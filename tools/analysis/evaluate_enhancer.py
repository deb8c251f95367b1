"""The acceptance table of the default enhancer, side by side with the official SGZ weights.

    python tools/analysis/evaluate_enhancer.py                       # default vs official
    python tools/analysis/evaluate_enhancer.py --candidate new=work_dirs/x/iter_400.pth \
        --candidate 'new-s12=work_dirs/x/iter_400.pth:{"scale_factor": 12}' --json table.json

Columns, one per model (the official ``Epoch99.pth`` at ``scale_factor=12`` first):
  lol_val PSNR / SSIM  ``lol_val_pairs``: the top 600x396 crop of each low image enhanced and
                       compared with the same crop of ``high/`` (skimage, 8-bit, mean of 40)
  lol_val detail       the same crops: fine detail of the output over the reference's (mean
                       |Laplacian| after a 1-pixel Gaussian; 1: as much texture as the reference,
                       below: smoothed, above: noise), mean of 40
  lol_val dark channel the same crops' outputs and references (``night_pairs.dark_channel``):
                       a well-exposed dim room's figure, beside the real photos' below
  real noise           the 20 photos of ``unpaired/sci_easy`` + ``sci_medium``: mean of
                       ``skimage.restoration.estimate_sigma`` of the outputs (8-bit scale)
  real brightness      their mean output level in [0, 1]
  real clipping %      their share of pixels whose largest channel is >= 250, in percent
  real dark channel    their outputs' mean dark channel (``night_pairs.dark_channel``: the
                       minimum over R, G, B in 15x15 windows; a grey veil raises it, and so
                       does daylight or indoor light: the LOL references' is ~0.28)
  real smoothed dark channel
                       the same after a 2-px Gaussian blur (``night_pairs``: noise lowers the
                       plain figure, so this one compares noisy and denoised outputs fairly)
  well-lit LOL PSNR    ``lol_val_pairs/high`` fed in as input: PSNR(input, output), mean
                       (an image returned unchanged counts as 99 dB)
  well-lit skimage     scikit-image's normal-light samples (astronaut, chelsea, coffee, rocket)
                       fed in: PSNR(input, output), mean
  demo coffee / astronaut / chelsea
                       ``make demo``'s inputs (the photos darkened to 3 % exposure with shot and
                       read noise, ``mmlowlight.apis.demo_data``; the arrays, before the demo's
                       JPEG encoding) enhanced: PSNR against the original photo
  semantic KL          ``lol_val_pairs``: KL divergence KL(P_ref || P_out) between the ImageNet
                       class distributions of the shared MobileNetV1 (``pretrained/``) on the
                       normal-light reference and on the enhanced low image (whole 600x400
                       images, nats, mean of 40): how much of what a recogniser sees in the
                       scene the enhancement brings back (the low input itself: ~0.9)
  night_*              ``night_lights`` pairs (``tools/analysis/night_pairs.py``: the night photos
                       darkened at x0.08 / x0.12 / x0.2): SSIM, PSNR, mean level, dark channel
                       (veil) plain and after a 2-px blur, halo (error concentrated around the
                       lamps), and the undarkened photos' PSNR(input, output)
  night_crops_*        the same SSIM, dark channel and halo on the photos' four quadrants
                       (``night_pairs.py --crops``: framings the night rule was not tuned on)
  1080p ms / speed-up  the model through ``enhance_batch`` (uint8 in and out, what users run)
                       vs the official code op by op at scale 12 in processes of its own, as
                       shipped and with denormals flushed (``tools/benchmark.py``), interleaved
                       in the same run, medians of --repeats rounds in each of
                       --official-processes fresh pairs of official-code processes, pooled
                       (their allocator keeps the memory it frees: the code's steady speed)
The simple baselines a user tries first (the low input itself, auto gamma, CLAHE:
``mmlowlight.apis.classic_baselines``) get the quality columns too (``--no-baselines`` drops them).
Then the acceptance checks of the "default enhancer v2" issue for the first candidate.
Validation data only: nothing here trains or tunes a model.
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types, benchmark
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/analysis/: night_pairs
from cli_types import parse_candidate, positive_int  # noqa: E402

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # see tools/benchmark.py

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from benchmark import dark_frame, medians, official_process_times  # noqa: E402
from night_pairs import (VEIL_SMOOTHING, dark_channel, image_paths, lol_val_pairs,  # noqa: E402
                         night_pairs, night_photos, night_row, psnr, quadrant_crops, reference_row)
from skimage.metrics import peak_signal_noise_ratio, structural_similarity  # noqa: E402
from skimage.restoration import estimate_sigma  # noqa: E402

from mmlowlight.apis import enhance_batch, init_enhancer, read_image  # noqa: E402
from mmlowlight.apis.classic_baselines import CLASSIC_BASELINES  # noqa: E402
from mmlowlight.apis.demo_data import demo_inputs  # noqa: E402
from mmlowlight.models.enhancers import SGZEnhancer  # noqa: E402
from mmlowlight.utils import mmengine_log_level, write_json_atomic  # noqa: E402

#: The top crop the LOL evaluation of the official repository uses (a multiple of 12).
LOL_CROP = (396, 600)
WELL_LIT_SAMPLES = ('astronaut', 'chelsea', 'coffee', 'rocket')
CLIP_LEVEL = 250
#: The night halo figure of the default weights v2.1 (2026-12-06), which v3 should halve.
V21_NIGHT_HALO = 0.092


#: An enhancement method under test: H x W x 3 uint8 RGB -> the same.
Method = Callable[[np.ndarray], np.ndarray]


def model_method(model: SGZEnhancer) -> Method:
    """The default path of a model: ``enhance_batch`` on one image."""
    return lambda rgb: enhance_batch(model, rgb[None])[0]


def fine_detail(rgb: np.ndarray) -> float:
    """Mean |Laplacian| of an 8-bit RGB image after a 1-pixel Gaussian (OpenCV), in [0, 1]
    units: the fine texture left once pixel-level noise is damped."""
    blurred = cv2.GaussianBlur(rgb.astype(np.float32) / 255, (0, 0), 1.0)
    return float(np.abs(cv2.Laplacian(blurred, cv2.CV_32F)).mean())


def lol_pairs(run: Method, root: str) -> Dict[str, float]:
    """Mean skimage PSNR and SSIM of the enhanced top crops against the references, the mean
    ratio of their fine detail (:func:`fine_detail`) to the references', and the mean dark
    channel of the outputs and of the references (what a well-exposed dim room has)."""
    height, width = LOL_CROP
    psnrs, ssims, details, veils, reference_veils = [], [], [], [], []
    for low, high in lol_val_pairs(root):
        low, high = low[:height, :width], high[:height, :width]
        out = run(np.ascontiguousarray(low))
        psnrs.append(psnr(high, out))
        ssims.append(structural_similarity(high, out, data_range=255, channel_axis=-1))
        details.append(fine_detail(out) / max(fine_detail(high), 1e-6))
        veils.append(dark_channel(out))
        reference_veils.append(dark_channel(high))
    return dict(lol_psnr=float(np.mean(psnrs)), lol_ssim=float(np.mean(ssims)),
                lol_detail=float(np.mean(details)), lol_dark_channel=float(np.mean(veils)),
                lol_reference_dark_channel=float(np.mean(reference_veils)))


def real_photos(run: Method, folders: List[str]) -> Dict[str, float]:
    """Noise, brightness and clipping of the outputs of real dark photos (no references)."""
    noise, level, clipped, veil, smooth_veil = [], [], [], [], []
    for path in [p for folder in folders for p in image_paths(folder)]:
        out = run(read_image(path).rgb)
        noise.append(estimate_sigma(out, channel_axis=-1, average_sigmas=True))
        level.append(out.mean() / 255)
        clipped.append((out.max(axis=-1) >= CLIP_LEVEL).mean() * 100)
        veil.append(dark_channel(out))
        smooth_veil.append(dark_channel(out, smoothing=VEIL_SMOOTHING))
    return dict(noise=float(np.mean(noise)), brightness=float(np.mean(level)),
                clipping=float(np.mean(clipped)), real_dark_channel=float(np.mean(veil)),
                real_smooth_dark_channel=float(np.mean(smooth_veil)))


def well_lit(run: Method, images: List[np.ndarray]) -> float:
    """Mean PSNR(input, output) of well-exposed images fed in: 'left alone' is high."""
    return float(np.mean([psnr(img, run(img)) for img in images]))


def well_lit_sets(root: str) -> Dict[str, List[np.ndarray]]:
    """The well-lit inputs: ``lol_val_pairs/high`` and scikit-image's sample photos."""
    from skimage import data as skdata
    return dict(
        well_lit_lol=[read_image(p).rgb
                      for p in image_paths(osp.join(root, 'lol_val_pairs', 'high'))],
        well_lit_skimage=[getattr(skdata, name)() for name in WELL_LIT_SAMPLES])


def real_folders(root: str) -> List[str]:
    return [osp.join(root, 'unpaired', 'sci_easy'), osp.join(root, 'unpaired', 'sci_medium')]


def demo_photos(run: Method) -> Dict[str, float]:
    """PSNR of each ``make demo`` input, enhanced, against the photo it was made from."""
    return {f'demo_{name}': peak_signal_noise_ratio(original, run(dark))
            for name, (original, dark) in demo_inputs().items()}


def imagenet_classifier(root: str) -> torch.nn.Module:
    """The shared ImageNet MobileNetV1 (x0.25) as a whole classifier, frozen."""
    from mmlowlight.models.guides.mobilenet_v1 import MobileNetV1DenseClassifier
    path = osp.join(root, 'pretrained', 'mobilenetv1_x0.25_imagenet.tar')
    model = MobileNetV1DenseClassifier(init_cfg=dict(type='Pretrained', checkpoint=path))
    with mmengine_log_level():  # not a line per parameter on the console
        model.init_weights()
    return model.eval().requires_grad_(False)


def _class_log_probs(classifier: torch.nn.Module, rgb: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        return torch.log_softmax(classifier(x).mean(dim=(2, 3)), dim=1)[0]


def semantic_kl(run: Method, root: str, classifier: torch.nn.Module) -> float:
    """Mean KL(P_ref || P_out) of the ImageNet class distributions over ``lol_val_pairs``."""
    values = []
    for low, high in lol_val_pairs(root):
        ref = _class_log_probs(classifier, high)
        out = _class_log_probs(classifier, run(low))
        values.append(float((ref.exp() * (ref - out)).sum()))
    return float(np.mean(values))


def night_sets(photos: List[Tuple[str, np.ndarray]]) -> Dict[str, object]:
    """The night photos' dark pairs and the originals' figures, whole and in quadrants
    (``night_pairs.py --crops``: framings the night rule was not tuned on). Made once per run:
    they are the same for every method (about 4 s to simulate).

    Returns:
        dict: ``photos``, ``pairs``, ``reference`` (:func:`night_pairs.reference_row`), and
        ``crop_pairs``, ``crop_reference`` of the quadrants.
    """
    pairs = night_pairs(photos)
    crop_pairs = night_pairs(quadrant_crops(photos))
    return dict(photos=photos, pairs=pairs, reference=reference_row(pairs),
                crop_pairs=crop_pairs, crop_reference=reference_row(crop_pairs))


def quality_row(run: Method, root: str, lit: Dict[str, List[np.ndarray]],
                night: Dict[str, object],
                classifier: Optional[torch.nn.Module] = None) -> Dict[str, float]:
    """Every quality figure of the table (all but speed) for one method; ``night``: the
    :func:`night_sets`; without ``classifier`` no semantic-KL figure."""
    row = lol_pairs(run, osp.join(root, 'lol_val_pairs'))
    if classifier is not None:
        row['semantic_kl'] = semantic_kl(run, osp.join(root, 'lol_val_pairs'), classifier)
    row.update(real_photos(run, real_folders(root)))
    row.update({name: well_lit(run, images) for name, images in lit.items()})
    row.update(demo_photos(run))
    row.update(night_row(run, night['pairs'], night['photos']))
    # The originals' dark channel, beside each row for the check against it.
    row['night_reference_dark_channel'] = night['reference']['night_dark_channel']
    row['night_reference_smooth_dark_channel'] = \
        night['reference']['night_smooth_dark_channel']
    row.update(night_crop_rows(run, night))
    return row


def night_crop_rows(run: Method, night: Dict[str, object]) -> Dict[str, float]:
    """SSIM, dark channel (and the originals') and halo on the quadrants of the
    :func:`night_sets`."""
    row = night_row(run, night['crop_pairs'], [])
    return dict(night_crops_ssim=row['night_ssim'],
                night_crops_dark_channel=row['night_dark_channel'],
                night_crops_reference_dark_channel=night['crop_reference']['night_dark_channel'],
                night_crops_halo=row['night_halo'])


def speed_1080p(model: SGZEnhancer, official_checkpoint: str, threads: int, repeats: int,
                processes: int = 2) -> Dict[str, float]:
    """Milliseconds at 1920x1080: the model's default path against the official code op by op,
    as shipped and with denormals flushed, interleaved, the official code's calls pooled over
    ``processes`` fresh processes (see ``tools/benchmark.py``)."""
    rgb = dark_frame(1920, 1080)
    samples = official_process_times(
        dict(official=False, flushed=True, model=lambda: enhance_batch(model, rgb[None])),
        1920, 1080, threads, official_checkpoint, repeats, processes)[0]
    seconds = medians(samples)
    return dict(ms=seconds['model'] * 1e3, official_ms=seconds['official'] * 1e3,
                official_flushed_ms=seconds['flushed'] * 1e3,
                speedup=seconds['official'] / seconds['model'],
                speedup_flushed=seconds['flushed'] / seconds['model'])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='../shared/data')
    parser.add_argument('--official', default=None,
                        help='official weights (default: DATA_ROOT/sgz_official/Epoch99.pth)')
    parser.add_argument('--candidate', action='append', type=parse_candidate, default=[],
                        help='NAME=PATH[:JSON constructor overrides] (repeatable; empty PATH: the '
                             'package default weights); default: the package '
                             'default weights as "default"')
    parser.add_argument('--threads', type=positive_int, default=2)
    parser.add_argument('--repeats', type=positive_int, default=5)
    parser.add_argument('--official-processes', type=positive_int, default=2,
                        help='fresh pairs of official-code processes of the speed rows, their '
                             'calls pooled (see tools/benchmark.py)')
    parser.add_argument('--no-speed', action='store_true', help='skip the 1080p timing')
    parser.add_argument('--no-baselines', action='store_true',
                        help='no columns for the low input, auto gamma and CLAHE')
    parser.add_argument('--json', help='also write the table as JSON here')
    return parser.parse_args()


#: Each check: a label, the metric it needs (reported as skipped where the table lacks it, e.g.
#: the speed under --no-speed) and the test.
ACCEPTANCE: List[Tuple[str, str, Callable[[dict, dict], bool]]] = [
    ('lol_val PSNR >= 18.5 dB', 'lol_psnr',
     lambda c, o: c['lol_psnr'] >= 18.5),
    ('lol_val SSIM >= 0.72', 'lol_ssim',
     lambda c, o: c['lol_ssim'] >= 0.72),
    ('real noise <= 0.6 x official', 'noise',
     lambda c, o: c['noise'] <= 0.6 * o['noise']),
    ('real brightness >= official - 0.02', 'brightness',
     lambda c, o: c['brightness'] >= o['brightness'] - .02),
    ('real brightness <= 0.60', 'brightness',
     lambda c, o: c['brightness'] <= 0.60),
    ('real clipping <= official + 0.5 points', 'clipping',
     lambda c, o: c['clipping'] <= o['clipping'] + .5),
    ('well-lit LOL PSNR >= 25 dB', 'well_lit_lol',
     lambda c, o: c['well_lit_lol'] >= 25),
    ('well-lit skimage PSNR >= 25 dB', 'well_lit_skimage',
     lambda c, o: c['well_lit_skimage'] >= 25),
    ('1080p >= 10x the official code (as shipped)', 'speedup',
     lambda c, o: c['speedup'] >= 10),
    ('1080p >= 10x the official code with denormals flushed', 'speedup_flushed',
     lambda c, o: c['speedup_flushed'] >= 10),
    # Quality v3 (night scenes, texture): the lol_val bar raised to no regression of v2.1.
    ('lol_val PSNR >= 19.5 dB and SSIM >= 0.78', 'lol_psnr',
     lambda c, o: c['lol_psnr'] >= 19.5 and c['lol_ssim'] >= 0.78),
    ('lol_val detail >= 0.90 of the reference', 'lol_detail',
     lambda c, o: c['lol_detail'] >= 0.9),
    ('night pairs SSIM >= 0.68', 'night_ssim',
     lambda c, o: c['night_ssim'] >= 0.68),
    (f'night halo <= half of v2.1\'s ({V21_NIGHT_HALO})', 'night_halo',
     lambda c, o: c['night_halo'] <= V21_NIGHT_HALO / 2),
    ('night dark channel within 0.03 of the originals\'', 'night_dark_channel',
     lambda c, o: abs(c['night_dark_channel'] - c['night_reference_dark_channel']) <= .03),
    ('night quadrants SSIM >= 0.68', 'night_crops_ssim',
     lambda c, o: c['night_crops_ssim'] >= 0.68),
    (f'night quadrants halo <= {V21_NIGHT_HALO / 2}', 'night_crops_halo',
     lambda c, o: c['night_crops_halo'] <= V21_NIGHT_HALO / 2),
    ('night quadrants dark channel within 0.03 of the originals\'', 'night_crops_dark_channel',
     lambda c, o: abs(c['night_crops_dark_channel']
                      - c['night_crops_reference_dark_channel']) <= .03),
    ('real dark channel <= 0.20', 'real_dark_channel',
     lambda c, o: c['real_dark_channel'] <= 0.2),
]


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    root = args.data_root
    official_path = args.official or osp.join(root, 'sgz_official', 'Epoch99.pth')
    models = {'official': init_enhancer(checkpoint=official_path, scale_factor=12)}
    for name, path, overrides in args.candidate or [('default', None, {})]:
        models[name] = init_enhancer(checkpoint=path, **overrides)
    lit = well_lit_sets(root)
    night = night_sets(night_photos(root))
    classifier = imagenet_classifier(root)
    table: Dict[str, Dict[str, float]] = {}
    for name, model in models.items():
        row = quality_row(model_method(model), root, lit, night, classifier)
        if not args.no_speed:
            row.update(speed_1080p(model, official_path, args.threads, args.repeats,
                                   args.official_processes))
        table[name] = row
        print(name, json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    if not args.no_baselines:
        baselines = {'low input': lambda rgb: rgb, **CLASSIC_BASELINES}
        for name, run in baselines.items():
            table[name] = quality_row(run, root, lit, night, classifier)
    keys = list(next(iter(table.values())))
    print('\n| metric | ' + ' | '.join(table) + ' |')
    print('|---|' + '---|' * len(table))
    for key in keys:
        print(f'| {key} | ' + ' | '.join(f'{row[key]:.3f}' if key in row else ''
                                         for row in table.values()) + ' |')
    first = next(name for name in models if name != 'official')
    print(f'\nacceptance ({first} vs official):')
    for label, needs, check in ACCEPTANCE:
        if needs not in table[first]:
            state = 'skip '
        else:
            state = 'met  ' if check(table[first], table['official']) else 'UNMET'
        print(f'  {state} {label}')
    print('load average:', ' '.join(f'{v:.2f}' for v in os.getloadavg()))
    if args.json:
        write_json_atomic(table, args.json)


if __name__ == '__main__':
    main()
