"""Dark-scene detection benchmark in one command, on data generated on the spot.

No real low-light detection set can be downloaded here, so the script

1. generates a small detection set (coloured circles / squares / triangles on textured
   backgrounds, COCO json, train + val; :mod:`mmlowlight.datasets.synthetic.shapes_detection`);
2. darkens a copy with a physical capture model (exposure x0.02-0.06 in linear light, Poisson
   shot + Gaussian read noise, 8-bit re-encoding; :class:`LowLightSimulator`);
3. trains a small RetinaNet (mmdet's ``retinanet_r18_fpn_1x_coco`` config with a quarter-width
   ResNet-18, random init) on the normal-light train split with mmengine's Runner;
4. reports COCO bbox mAP (mmdet ``CocoMetric``) on the val split for: normal light, dark,
   dark + frozen SGZ in ``LowLightDetDataPreprocessor``, dark + SGZ and detector fine-tuned
   jointly on dark train images (with the zero-reference losses through ``AuxLossHook``), and,
   as a control, dark + the detector alone fine-tuned the same way.

Example (572 s wall, 200 s of CPU time with one thread on a busy 2-core machine)::

    python tools/analysis/dark_detection_benchmark.py --seed 0 \
        --enhancer-checkpoint ../shared/data/sgz_official/Epoch99.pth

Everything is written under ``--work-dir`` (default: a new temporary folder), nothing into the
repository. ``--seed`` fixes data, darkening, initialisation and sampling.

To compare several frozen enhancers against one detector, run it once per enhancer on the same
``--work-dir`` with ``--skip-finetune``: the generated data and the trained normal-light detector
found there (written by an earlier run with the same data and training arguments) are reused,
so only the evaluations run again::

    python tools/analysis/dark_detection_benchmark.py --work-dir work_dirs/dark_det \
        --skip-finetune --enhancer-checkpoint A.pth --results a.json
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import tempfile
import time
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config
from mmengine.runner import Runner

from mmlowlight.apis import DEFAULT_CHECKPOINT
from mmlowlight.apis.inference import enhancer_args_from_config
from mmlowlight.datasets.synthetic import (SHAPE_CLASSES, LowLightSimulator,
                                           generate_shapes_dataset)
from mmlowlight.utils import write_json_atomic

# The zero-reference losses of SGZ (official weights are the losses' defaults).
AUX_LOSSES = [
    dict(type='SpatialConsistencyLoss'),
    dict(type='ColorConstancyLoss'),
    dict(type='ExposureLoss'),
    dict(type='IlluminationSmoothnessLoss'),
]
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', help='where data, checkpoints and logs go '
                        '(default: a new temporary folder)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--enhancer-checkpoint', default=None,
                        help=f'SGZ weights (default: the package weights {DEFAULT_CHECKPOINT})')
    parser.add_argument('--enhancer-scale', type=int, default=None,
                        help='SGZ scale_factor (EFE input downscale) for the 128 px images '
                        '(default: the --enhancer-config\'s, else 2)')
    parser.add_argument('--enhancer-config', default=None,
                        help='config whose SGZEnhancer arguments (e.g. exposure control) the '
                        'enhancer is built with (default: SGZEnhancer defaults)')
    parser.add_argument('--skip-finetune', action='store_true',
                        help='frozen enhancer only: no joint and no control fine-tuning')
    parser.add_argument('--results', default=None,
                        help='where the results json goes (default: <work-dir>/results.json)')
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-val', type=int, default=150)
    parser.add_argument('--image-size', type=int, default=128)
    parser.add_argument('--train-iters', type=int, default=900,
                        help='iterations of the normal-light detector training')
    parser.add_argument('--finetune-iters', type=int, default=200,
                        help='iterations of each fine-tuning on dark images')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--lr', type=float, default=2e-3, help='AdamW lr of the training')
    parser.add_argument('--finetune-lr', type=float, default=5e-4)
    parser.add_argument('--exposure', type=float, nargs=2, default=(0.02, 0.06),
                        help='range of the exposure factor of the darkening')
    # One thread by default: with small convolutions, 2 OpenMP threads on a busy 2-core
    # machine were measured 15x slower per iteration than 1 (spin-waiting threads).
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    return parser.parse_args()


def make_data(root: str, args: argparse.Namespace) -> None:
    """Write the normal-light set under ``root/images`` and its dark copy under ``root/dark``."""
    size = (args.image_size, args.image_size)
    generate_shapes_dataset(root, {'train': args.num_train, 'val': args.num_val},
                            seed=args.seed, image_size=size)
    simulator = LowLightSimulator(exposure_range=tuple(args.exposure))
    for split_index, split in enumerate(('train', 'val')):
        src, dst = osp.join(root, 'images', split), osp.join(root, 'dark', split)
        os.makedirs(dst, exist_ok=True)
        for index, name in enumerate(sorted(os.listdir(src))):
            rng = np.random.default_rng([args.seed, 1000 + split_index, index])
            dark = simulator(cv2.imread(osp.join(src, name), cv2.IMREAD_COLOR), rng)
            cv2.imwrite(osp.join(dst, name), dark)


def detector_cfg(num_classes: int) -> ConfigDict:
    """mmdet's RetinaNet-R18-FPN, narrowed for 128 px images and trained from scratch."""
    model = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    # Quarter-width ResNet-18 (16-32-64-128 channels), C3-C5, BN trained (random init).
    model.backbone.update(base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1,
                          norm_eval=False, init_cfg=None)
    model.neck.update(in_channels=[32, 64, 128], out_channels=64, start_level=0,
                      add_extra_convs=False, num_outs=3)
    # Anchors of 16-64 px on strides 8-32 fit the 16-48 px objects.
    model.bbox_head.update(num_classes=num_classes, in_channels=64, feat_channels=64,
                           stacked_convs=2)
    model.bbox_head.anchor_generator.update(octave_base_scale=2, strides=[8, 16, 32])
    model.data_preprocessor.update(mean=MEAN, std=STD, bgr_to_rgb=True, pad_size_divisor=32)
    return model


def enhancer_args(config: Optional[str], scale: Optional[int]) -> dict:
    """``SGZEnhancer`` arguments: the config's (if any), ``scale_factor`` from ``scale``."""
    args = enhancer_args_from_config(config) if config else {}
    if scale is not None:
        args['scale_factor'] = scale
    args.setdefault('scale_factor', 2)
    return args


def low_light_preprocessor(checkpoint: str, enhancer: dict, freeze: bool,
                           aux_losses: Optional[List[dict]]) -> dict:
    """Config of an SGZ ``LowLightDetDataPreprocessor`` with the detector's normalisation.

    Args:
        checkpoint (str): Enhancer weights (official SGZ file or an mmengine checkpoint).
        enhancer (dict): ``SGZEnhancer`` arguments (e.g. ``scale_factor``).
        freeze (bool): Keep the enhancer fixed (True) or train it with the detector.
        aux_losses (list[dict], optional): Zero-reference losses (needs ``freeze=False``).
    """
    return dict(type='mmlowlight.LowLightDetDataPreprocessor',
                enhancer=dict(type='SGZEnhancer', **enhancer),
                enhancer_checkpoint=checkpoint, freeze=freeze, aux_losses=aux_losses,
                mean=MEAN, std=STD, bgr_to_rgb=True, pad_size_divisor=32)


def dataloader(data_root: str, img_dir: str, split: str, batch_size: int, train: bool,
               image_size: int) -> dict:
    """Dataloader config of one split (``<data_root>/<img_dir>/<split>/``, COCO json)."""
    # Resize to the generated size is a no-op that records scale_factor (the head needs it).
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=(image_size, image_size), keep_ratio=True)]
    pipeline += [dict(type='RandomFlip', prob=0.5)] if train else []
    pipeline += [dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                      'img_shape', 'scale_factor', 'flip',
                                                      'flip_direction'))]
    return dict(
        batch_size=batch_size, num_workers=0,
        sampler=dict(type='InfiniteSampler' if train else 'DefaultSampler', shuffle=train),
        dataset=dict(type='CocoDataset', data_root=data_root,
                     metainfo=dict(classes=SHAPE_CLASSES),
                     ann_file=f'annotations/{split}.json',
                     data_prefix=dict(img=f'{img_dir}/{split}/'), test_mode=not train,
                     filter_cfg=dict(filter_empty_gt=train), pipeline=pipeline))


class Benchmark:
    """Runs the phases with mmengine Runners that share one base config."""

    def __init__(self, args: argparse.Namespace, work_dir: str) -> None:
        self.args = args
        self.work_dir = work_dir
        self.data_root = osp.join(work_dir, 'data')
        self.checkpoint = args.enhancer_checkpoint or DEFAULT_CHECKPOINT
        self.base = Config(dict(
            default_scope='mmdet',
            model=detector_cfg(len(SHAPE_CLASSES)),
            default_hooks=dict(
                timer=dict(type='IterTimerHook'),
                logger=dict(type='LoggerHook', interval=50),
                param_scheduler=dict(type='ParamSchedulerHook'),
                checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10**9,
                                save_last=True),
                sampler_seed=dict(type='DistSamplerSeedHook')),
            env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
            # Losses and metrics go to <work_dir>/<phase>/<timestamp>/vis_data/scalars.json.
            visualizer=dict(type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')]),
            randomness=dict(seed=args.seed),
            log_level='WARNING'))

    def _runner(self, name: str, **cfg) -> Runner:
        full = self.base.copy()
        full.merge_from_dict(dict(work_dir=osp.join(self.work_dir, name), experiment_name=name))
        for key, value in cfg.items():
            full[key] = value
        return Runner.from_cfg(full)

    def train(self, name: str, img_dir: str, iters: int, lr: float,
              load_from: Optional[str] = None, preprocessor: Optional[dict] = None,
              custom_hooks: Optional[list] = None) -> str:
        """Train (or fine-tune) on ``img_dir`` train images; returns the last checkpoint."""
        model = self.base.model.copy()
        if preprocessor is not None:
            model.data_preprocessor = preprocessor
        runner = self._runner(
            name, model=model, load_from=load_from, custom_hooks=custom_hooks or [],
            train_dataloader=dataloader(self.data_root, img_dir, 'train', self.args.batch_size,
                                        train=True, image_size=self.args.image_size),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**9),
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0.05),
                               clip_grad=dict(max_norm=10.0)),
            param_scheduler=[
                dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                     end=min(50, iters)),
                dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=iters,
                     eta_min=lr * 0.01)
            ])
        runner.train()
        return osp.join(runner.work_dir, f'iter_{iters}.pth')

    def evaluate(self, name: str, img_dir: str, checkpoint: str,
                 preprocessor: Optional[dict] = None) -> Dict[str, float]:
        """COCO bbox mAP of ``checkpoint`` on the ``img_dir`` val images."""
        model = self.base.model.copy()
        if preprocessor is not None:
            model.data_preprocessor = preprocessor
        runner = self._runner(
            name, model=model, load_from=checkpoint,
            test_dataloader=dataloader(self.data_root, img_dir, 'val', 8, train=False,
                                       image_size=self.args.image_size),
            test_evaluator=dict(type='CocoMetric', metric='bbox',
                                ann_file=osp.join(self.data_root, 'annotations', 'val.json')),
            test_cfg=dict(type='TestLoop'))
        metrics = runner.test()
        # CocoMetric returns {} when the detector found nothing at all: that is an mAP of 0.
        return {'mAP': metrics.get('coco/bbox_mAP', 0.0),
                'mAP50': metrics.get('coco/bbox_mAP_50', 0.0)}


def recovery(value: float, normal: float, dark: float) -> float:
    """Share of the mAP lost to darkness that a method wins back (percent)."""
    return 100.0 * (value - dark) / (normal - dark) if normal != dark else float('nan')


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    checkpoint = args.enhancer_checkpoint or DEFAULT_CHECKPOINT
    if not osp.isfile(checkpoint):
        raise SystemExit(f'error: SGZ weights {checkpoint} not found; pass '
                         '--enhancer-checkpoint PATH (e.g. the official Epoch99.pth)')
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='dark_detection_benchmark_')
    os.makedirs(work_dir, exist_ok=True)
    bench = Benchmark(args, work_dir)
    timings: Dict[str, float] = {}
    start = time.perf_counter()

    def timed(key, fn, *a, **kw):
        t0 = time.perf_counter()
        # pycocotools prints its progress and summary to stdout; the table below has them.
        with contextlib.redirect_stdout(io.StringIO()):
            out = fn(*a, **kw)
        timings[key] = time.perf_counter() - t0
        print(f'[{key}] {timings[key]:.0f} s', flush=True)
        return out

    data_done = osp.join(bench.data_root, 'complete.json')
    if not _same_settings(data_done, _data_settings(args)):
        timed('data', make_data, bench.data_root, args)
        write_json_atomic(_data_settings(args), data_done)
    detector = osp.join(work_dir, 'train_normal', f'iter_{args.train_iters}.pth')
    detector_done = osp.join(work_dir, 'train_normal', 'complete.json')
    if not (osp.isfile(detector) and _same_settings(detector_done, _detector_settings(args))):
        detector = timed('train normal', bench.train, 'train_normal', 'images',
                         args.train_iters, args.lr)
        write_json_atomic(_detector_settings(args), detector_done)
    rows = {}
    rows['normal light'] = timed('eval normal', bench.evaluate, 'eval_normal', 'images',
                                 detector)
    rows['dark'] = timed('eval dark', bench.evaluate, 'eval_dark', 'dark', detector)
    enhancer = enhancer_args(args.enhancer_config, args.enhancer_scale)
    frozen = low_light_preprocessor(bench.checkpoint, enhancer, True, None)
    rows['dark + SGZ (frozen)'] = timed('eval frozen', bench.evaluate, 'eval_sgz_frozen',
                                        'dark', detector, frozen)
    if not args.skip_finetune:
        finetune(bench, args, rows, detector, enhancer, timed)
    total = time.perf_counter() - start

    normal, dark = rows['normal light']['mAP'], rows['dark']['mAP']
    lines = ['| condition | bbox mAP | mAP@0.5 | recovered share of the lost mAP |',
             '|---|---|---|---|']
    for name, metrics in rows.items():
        rec = '' if name in ('normal light', 'dark') else \
            f'{recovery(metrics["mAP"], normal, dark):.0f} %'
        lines.append(f'| {name} | {metrics["mAP"]:.3f} | {metrics["mAP50"]:.3f} | {rec} |')
    table = '\n'.join(lines)
    print(f'\n{table}\n\nseed {args.seed}, total {total:.0f} s, work dir {work_dir}')
    write_json_atomic(dict(args=vars(args), rows=rows, timings=timings, total_s=total),
                      args.results or osp.join(work_dir, 'results.json'), indent=2)


def finetune(bench: Benchmark, args: argparse.Namespace, rows: Dict[str, Dict[str, float]],
             detector: str, enhancer: dict, timed) -> None:
    """The joint SGZ + detector fine-tune and its detector-only control, with evaluations."""
    joint = low_light_preprocessor(bench.checkpoint, enhancer, False, AUX_LOSSES)
    hooks = [dict(type='mmlowlight.AuxLossHook')]
    joint_ckpt = timed('finetune joint', bench.train, 'finetune_sgz_joint', 'dark',
                       args.finetune_iters, args.finetune_lr, detector, joint, hooks)
    # Evaluate the jointly trained enhancer as it was trained (weights from joint_ckpt).
    joint_eval = low_light_preprocessor(joint_ckpt, enhancer, True, None)
    rows['dark + SGZ joint fine-tune'] = timed('eval joint', bench.evaluate, 'eval_sgz_joint',
                                               'dark', joint_ckpt, joint_eval)
    control_ckpt = timed('finetune control', bench.train, 'finetune_detector_only', 'dark',
                         args.finetune_iters, args.finetune_lr, detector)
    rows['dark + detector-only fine-tune (control)'] = timed(
        'eval control', bench.evaluate, 'eval_detector_only', 'dark', control_ckpt)


def _data_settings(args: argparse.Namespace) -> dict:
    return {k: getattr(args, k) for k in ('seed', 'num_train', 'num_val', 'image_size')} | dict(
        exposure=list(args.exposure))


def _detector_settings(args: argparse.Namespace) -> dict:
    return _data_settings(args) | {k: getattr(args, k) for k in
                                   ('train_iters', 'batch_size', 'lr')}


def _same_settings(path: str, settings: dict) -> bool:
    """Whether ``path`` records these settings (a finished earlier step to reuse)."""
    if not osp.isfile(path):
        return False
    with open(path, encoding='utf-8') as f:
        return json.load(f) == settings


if __name__ == '__main__':
    main()
