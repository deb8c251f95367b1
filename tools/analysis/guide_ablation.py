"""Does the semantic loss help, and does its guide need ImageNet features? One command.

Three arms trained by ``tools/train.py`` on the same data, recipe, iterations and seed:

- ``noguide``: the recipe's own losses (no semantic loss);
- ``random guide``: + the semantic loss, guide = MobileNetV1 x0.25 FPN with random weights;
- ``pretrained guide``: + the semantic loss, the same guide with the ImageNet MobileNetV1
  backbone (``configs/_base_/models/sgz_mobilenetv1_guide.py``);
- optionally (``--arms ... 'imagenet classifier guide'``): + the semantic loss with the whole
  pretrained classifier as the guide (``MobileNetV1DenseClassifier``: ImageNet logits at every
  stride-32 location), where no guide weight is freshly initialised.

Each trained enhancer (and, for reference, the official SGZ weights) is then measured on

- ``lol_val_pairs``: PSNR / SSIM (the package's metrics: 8-bit, skimage; SSIM with skimage's
  default 7x7 window, as ``evaluate_enhancer.py``) of the top 600x396 crop against ``high/``
  (validation only: no loss ever sees these images);
- the 20 real photos of ``unpaired/sci_easy`` + ``sci_medium`` (held out: training uses
  ``unpaired/lol_train_low``, as the default-weights recipe does): mean output noise
  (``skimage.restoration.estimate_sigma``, grey levels), mean brightness in [0, 1] and the share
  of clipped pixels (max channel >= 250, percent);
- the synthetic dark-detection benchmark (``dark_downstream_benchmark.py --budgets 0``): one
  detector trained once on normal light (reused from the work dir), bbox mAP on the dark val
  images through the frozen enhancer.

Usage (a few hundred iterations per run: sized for a 2-core CPU, one torch thread)::

    nice -n 10 python tools/analysis/guide_ablation.py --work-dir work_dirs/guide_ablation \
        --seeds 0 1 2 --iters 300

Everything is written under ``--work-dir``; finished trainings and measurements are reused when
the command is run again (delete a run's folder to redo it). ``--recipe`` is the guide-free
config that the arms extend; its enhancer is also what the measurements build.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
import numpy as np
import torch
from cli_types import non_negative_int, number, positive_int  # noqa: E402
from mmengine.config import Config
from skimage.restoration import estimate_sigma

from mmlowlight.apis import enhance, init_enhancer, read_image
from mmlowlight.evaluation.metrics import PSNR, SSIM

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_RECIPE = 'configs/sgz/sgz-noguide_dsc-s12_adam-lr1e-3_bs8-256_400it_unpaired.py'
GUIDE_BASE = 'configs/_base_/models/sgz_mobilenetv1_guide.py'
ARMS = ('noguide', 'random guide', 'pretrained guide')
#: Optional: the pretrained classifier itself as the guide (MobileNetV1DenseClassifier).
EXTRA_ARMS = ('imagenet classifier guide', )
CLIP_LEVEL = 250
CROP = (396, 600)  # top rows x columns of lol_val_pairs, as the default-enhancer checks use


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--recipe', default=DEFAULT_RECIPE,
                        help='guide-free training config that the three arms extend')
    parser.add_argument('--data', default=osp.join(REPO_ROOT, '..', 'shared', 'data'),
                        help='the shared data folder')
    parser.add_argument('--train-root', default=None,
                        help='training images (default: <data>/unpaired/lol_train_low)')
    parser.add_argument('--seeds', type=non_negative_int, nargs='+', default=[0])
    parser.add_argument('--arms', nargs='+', choices=ARMS + EXTRA_ARMS, default=list(ARMS),
                        help='run only these arms (e.g. to spread them over processes)')
    parser.add_argument('--iters', type=positive_int, default=300,
                        help='training iterations per run')
    parser.add_argument('--semantic-weight', type=number(0), default=None,
                        help='loss_weight of the semantic loss (default: the guide config\'s)')
    parser.add_argument('--detection-seed', type=non_negative_int, default=0)
    parser.add_argument('--skip-detection', action='store_true')
    parser.add_argument('--official', default=None,
                        help='official SGZ weights for the reference row '
                        '(default: <data>/sgz_official/Epoch99.pth when present)')
    return parser.parse_args()


def arm_config(recipe: str, arm: str, semantic_weight: Optional[float], data: str) -> Config:
    """The recipe with (or without) the semantic loss of one arm (guide weights from ``data``)."""
    cfg = Config.fromfile(recipe)
    if arm != 'noguide':
        guides = Config.fromfile(osp.join(REPO_ROOT, GUIDE_BASE))
        weights = osp.abspath(osp.join(data, 'pretrained', 'mobilenetv1_x0.25_imagenet.tar'))
        if arm == 'imagenet classifier guide':
            loss = guides.mobilenetv1_classifier_semantic_loss
            loss.guide.init_cfg.checkpoint = weights
        else:
            loss = guides.mobilenetv1_semantic_loss
            if arm == 'random guide':
                loss.guide.backbone.init_cfg = None
            else:
                loss.guide.backbone.init_cfg.checkpoint = weights
        if semantic_weight is not None:
            loss.loss_weight = semantic_weight
        cfg.model.losses = list(cfg.model.losses) + [loss]
    return cfg


def train(cfg: Config, work_dir: str, data: str, train_root: str, seed: int, iters: int) -> str:
    """Train one arm with tools/train.py (skipped when its last checkpoint exists)."""
    checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
    if osp.isfile(checkpoint):
        return checkpoint
    os.makedirs(work_dir, exist_ok=True)
    config_file = osp.join(work_dir, 'config.py')
    cfg.dump(config_file)
    options = [
        f'train_dataloader.dataset.data_root={train_root}',
        f'val_dataloader.dataset.data_root={osp.join(data, "lol15", "low")}',
        f'test_dataloader.dataset.data_root={osp.join(data, "lol15", "low")}',
        f'randomness.seed={seed}', 'randomness.deterministic=False',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        f'default_hooks.checkpoint.interval={iters}',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
    ]
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config_file,
               '--work-dir', work_dir, '--cfg-options'] + options
    start = time.perf_counter()
    with open(osp.join(work_dir, 'train.log'), 'w', encoding='utf-8') as log:
        subprocess.run(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, check=True,
                       env=dict(os.environ, OMP_NUM_THREADS='1'))
    print(f'  trained {work_dir} in {time.perf_counter() - start:.0f} s', flush=True)
    return checkpoint


def lol_val_scores(model, data: str) -> Dict[str, float]:
    """Mean PSNR / SSIM on the top 600x396 of the lol_val_pairs (8-bit, skimage)."""
    psnr, ssim = PSNR(), SSIM(gaussian_weights=False)
    names = sorted(os.listdir(osp.join(data, 'lol_val_pairs', 'low')))
    for name in names:
        low = read_image(osp.join(data, 'lol_val_pairs', 'low', name)).rgb[:CROP[0], :CROP[1]]
        high = read_image(osp.join(data, 'lol_val_pairs', 'high', name)).rgb[:CROP[0], :CROP[1]]
        out = enhance(model, np.ascontiguousarray(low))
        sample = dict(pred_img=torch.from_numpy(out).permute(2, 0, 1),
                      gt_img=torch.from_numpy(high).permute(2, 0, 1), img_path=name)
        psnr.process(None, [sample])
        ssim.process(None, [sample])
    return dict(psnr=psnr.compute_metrics(psnr.results)['PSNR'],
                ssim=ssim.compute_metrics(ssim.results)['SSIM'])


def real_photo_statistics(model, data: str) -> Dict[str, float]:
    """Mean noise (estimate_sigma, grey levels), brightness ([0, 1]) and clipping (%) of the
    enhanced sci_easy + sci_medium photos."""
    paths = sorted(glob.glob(osp.join(data, 'unpaired', 'sci_easy', '*')) +
                   glob.glob(osp.join(data, 'unpaired', 'sci_medium', '*')))
    sigma, brightness, clipped = [], [], []
    for path in paths:
        out = enhance(model, path)
        sigma.append(estimate_sigma(out.astype(np.float64), channel_axis=-1,
                                    average_sigmas=True))
        brightness.append(out.mean() / 255)
        clipped.append(100 * (out.max(axis=-1) >= CLIP_LEVEL).mean())
    return dict(sigma=float(np.mean(sigma)), brightness=float(np.mean(brightness)),
                clipping=float(np.mean(clipped)), photos=len(paths))


def detection_map(checkpoint: str, config: Optional[str], scale: float, work_dir: str,
                  seed: int) -> Dict[str, float]:
    """mAP of the frozen enhancer in the dark-detection benchmark (shared detector), its EFE at
    the ``scale`` it is measured at elsewhere."""
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'analysis',
                                        'dark_downstream_benchmark.py'),
               '--task', 'det', '--work-dir', work_dir, '--seeds', str(seed), '--budgets', '0',
               '--enhancer-checkpoint', checkpoint, '--enhancer-scale', f'{scale:g}']
    if config is not None:
        command += ['--enhancer-config', config]
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, OMP_NUM_THREADS='1'))
    with open(osp.join(work_dir, 'results_det.json'), encoding='utf-8') as f:
        rows = json.load(f)['per_seed'][str(seed)]
    return dict(map=rows['dark + SGZ default pipeline'], dark_map=rows['dark'],
                normal_map=rows['normal light'])


def measure(checkpoint: str, config: Optional[str], args: argparse.Namespace,
            detection_dir: str) -> Dict[str, float]:
    """All measures of one enhancer (cached next to its checkpoint)."""
    cache = osp.join(osp.dirname(checkpoint), 'measures.json')
    if osp.isfile(cache):
        with open(cache, encoding='utf-8') as f:
            return json.load(f)
    model = init_enhancer(config, checkpoint)
    result = dict(lol_val_scores(model, args.data), **real_photo_statistics(model, args.data))
    if not args.skip_detection:
        result.update(detection_map(checkpoint, config, model.scale_factor, detection_dir,
                                    args.detection_seed))
    with open(cache, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=2)
    return result


COLUMNS = (('psnr', 'PSNR dB', 2), ('ssim', 'SSIM', 3), ('sigma', 'noise sigma', 3),
           ('brightness', 'brightness', 3), ('clipping', 'clipped %', 3), ('map', 'dark mAP', 3))


def table(rows: Dict[str, List[Dict[str, float]]]) -> str:
    """Markdown: per arm the mean over seeds, the per-seed values in brackets."""
    present = [c for c in COLUMNS if all(c[0] in r for runs in rows.values() for r in runs)]
    lines = ['| arm | seeds | ' + ' | '.join(c[1] for c in present) + ' |',
             '|---|---|' + '---|' * len(present)]
    for arm, runs in rows.items():
        cells = []
        for key, _, digits in present:
            values = [r[key] for r in runs]
            cell = f'{np.mean(values):.{digits}f}'
            if len(values) > 1:
                cell += ' (' + ' / '.join(f'{v:.{digits}f}' for v in values) + ')'
            cells.append(cell)
        lines.append(f'| {arm} | {len(runs)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    for folder in ('unpaired', 'lol_val_pairs', 'lol15'):
        if not osp.isdir(osp.join(args.data, folder)):
            raise SystemExit(f'error: {osp.join(args.data, folder)} not found (--data)')
    if not osp.isfile(osp.join(REPO_ROOT, args.recipe)) and not osp.isfile(args.recipe):
        raise SystemExit(f'error: recipe {args.recipe} not found')
    recipe = args.recipe if osp.isfile(args.recipe) else osp.join(REPO_ROOT, args.recipe)
    work_dir = osp.abspath(args.work_dir)
    train_root = osp.abspath(args.train_root or osp.join(args.data, 'unpaired', 'lol_train_low'))
    detection_dir = osp.join(work_dir, 'detection')
    rows: Dict[str, List[Dict[str, float]]] = {}
    official = args.official or osp.join(args.data, 'sgz_official', 'Epoch99.pth')
    if osp.isfile(official):
        reference_dir = osp.join(work_dir, 'official')
        os.makedirs(reference_dir, exist_ok=True)
        link = osp.join(reference_dir, 'Epoch99.pth')
        if not osp.exists(link):
            os.symlink(osp.abspath(official), link)
        rows['official SGZ weights (reference)'] = [measure(link, None, args, detection_dir)]
    for seed in args.seeds:
        for arm in args.arms:
            run_dir = osp.join(work_dir, f'seed{seed}', arm.replace(' ', '_'))
            print(f'seed {seed}, {arm}', flush=True)
            cfg = arm_config(recipe, arm, args.semantic_weight, args.data)
            checkpoint = train(cfg, run_dir, args.data, train_root, seed, args.iters)
            rows.setdefault(arm, []).append(
                measure(checkpoint, osp.join(run_dir, 'config.py'), args, detection_dir))
    text = table(rows)
    print('\n' + text)
    with open(osp.join(work_dir, 'results.json'), 'w', encoding='utf-8') as f:
        json.dump(dict(args=vars(args), rows=rows), f, indent=2)
    with open(osp.join(work_dir, 'table.md'), 'w', encoding='utf-8') as f:
        f.write(text + '\n')


if __name__ == '__main__':
    main()
