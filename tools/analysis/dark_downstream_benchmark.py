"""Dark-scene detection / segmentation with and without SGZ, over seeds, in one command.

No real low-light detection or segmentation set can be downloaded here, so each seed

1. renders night scenes (:mod:`mmlowlight.datasets.synthetic.night_scenes`): shapes on crops of
   real photographs, lamps whose glare no single gain fits, and a dark copy of every scene
   captured with shot and read noise at a mean grey level of 5-40 (LOL's spread);
2. trains a small model on the normal-light train split with mmengine's Runner: RetinaNet with a
   quarter-width ResNet-18 (``--task det``, COCO bbox mAP) or an FCN on a quarter-width
   ResNet-18-V1c (``--task seg``, mIoU);
3. measures it on the dark val split under three label budgets:

   - **0 labels** (the frozen model trained on normal light): no enhancement, auto gamma,
     CLAHE (:mod:`mmlowlight.apis.classic_baselines`), official SGZ, and the package's
     default pipeline, the last two in ``LowLight{Det,Seg}DataPreprocessor`` exactly as the
     shipped configs build them (``enhancer=None``: the pipeline each checkpoint records);
   - **few labels** (``--few-labels`` labelled dark train images) and **all labels**: the
     model fine-tuned on them with SGZ trained jointly (``freeze=False``, the zero-reference
     aux losses through ``AuxLossHook``) against the control that fine-tunes the model alone,
     the same iterations, data and optimiser.

Every row is reported as the share of the score lost to darkness that it wins back,
``(score - dark) / (normal - dark)``, mean ± std over the seeds, next to the raw scores. A
results JSON and a bar chart PNG go to ``--work-dir``.

Example (both parts, 3 seeds, 2 seeds at a time on a 2-core machine)::

    python tools/analysis/dark_downstream_benchmark.py --task det --seeds 0 1 2 \
        --work-dir work_dirs/downstream_det
    python tools/analysis/dark_downstream_benchmark.py --task seg --seeds 0 1 2 \
        --work-dir work_dirs/downstream_seg

Finished phases are kept in ``<work-dir>/seed_<n>/phases.json`` with the settings that made
them, so an interrupted run continues where it stopped and a rerun with other settings redoes
only what they change.
"""
import argparse
import contextlib
import io
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
from cli_types import number, positive_int  # noqa: E402

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
OFFICIAL_DEFAULT = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                            '..', 'shared', 'data', 'sgz_official', 'Epoch99.pth')
# The joint aux losses: the zero-reference losses the default weights were trained with
# (configs/sgz/...exprange...): ExposureRangeLoss ('range') or Zero-DCE's fixed-level
# ExposureLoss ('level'), chosen with --aux-losses.
AUX_LOSSES = {
    'range': [
        dict(type='SpatialConsistencyLoss', loss_weight=1.0),
        dict(type='ColorConstancyLoss', loss_weight=5.0),
        dict(type='ExposureRangeLoss', loss_weight=10.0, patch_size=16, low=0.2, high=0.9),
        dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
    ],
    'level': [
        dict(type='SpatialConsistencyLoss', loss_weight=1.0),
        dict(type='ColorConstancyLoss', loss_weight=5.0),
        dict(type='ExposureLoss', loss_weight=10.0),
        dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
    ],
}
FROZEN_ROWS = ('dark + auto gamma', 'dark + CLAHE', 'dark + official SGZ',
               'dark + SGZ default pipeline')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--task', choices=('det', 'seg'), default='det')
    parser.add_argument('--seeds', type=number(0, integer=True), nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/dark_downstream',
                        help='data, checkpoints, logs and results (reused by reruns)')
    parser.add_argument('--jobs', type=positive_int, default=2,
                        help='seeds run at the same time, one thread each')
    parser.add_argument('--enhancer-checkpoint', default=None,
                        help='SGZ weights of the "default pipeline" rows (default: the '
                        'package weights)')
    parser.add_argument('--enhancer-config', default=None,
                        help='a config whose SGZEnhancer keys override the pipeline that '
                        '--enhancer-checkpoint records (default: none)')
    parser.add_argument('--enhancer-scale', type=number(1), default=None,
                        help='scale_factor of the SGZ rows (default: what the checkpoint '
                        'records)')
    parser.add_argument('--official-checkpoint', default=OFFICIAL_DEFAULT,
                        help='official SGZ Epoch99.pth (its row is skipped when absent)')
    parser.add_argument('--aux-losses', choices=sorted(AUX_LOSSES), default='range',
                        help='the joint fine-tunes\' zero-reference losses')
    parser.add_argument('--num-train', type=positive_int, default=480)
    parser.add_argument('--num-val', type=positive_int, default=120)
    parser.add_argument('--image-size', type=positive_int, default=128)
    parser.add_argument('--levels', type=number(0, 255, low_open=True, high_open=True), nargs=2,
                        default=(5.0, 40.0),
                        help='range of the dark copies\' mean 8-bit level')
    parser.add_argument('--train-iters', type=positive_int, default=900,
                        help='iterations of the normal-light training')
    parser.add_argument('--few-labels', type=positive_int, default=32,
                        help='labelled dark images of the few-label budget')
    parser.add_argument('--few-iters', type=positive_int, default=100)
    parser.add_argument('--all-iters', type=positive_int, default=200)
    parser.add_argument('--budgets', nargs='+', choices=('0', 'adapt', 'few', 'all'),
                        default=['0', 'adapt', 'few', 'all'],
                        help='label budgets to measure (0: the frozen rows only; adapt: the '
                        'enhancer adapted without labels, with the model as guide and the '
                        'zero-reference control)')
    parser.add_argument('--adapt-iters', type=positive_int, default=100,
                        help='iterations of each label-free adaptation')
    parser.add_argument('--adapt-lr', type=number(0, low_open=True), default=2e-5)
    parser.add_argument('--guide-weight', type=number(0, low_open=True), default=1.0,
                        help='loss_weight of the guide\'s pseudo-label loss')
    parser.add_argument('--guide-threshold', type=number(0, 1, low_open=True, high_open=True),
                        default=0.5, help='score a prediction needs to become a pseudo-label')
    parser.add_argument('--batch-size', type=positive_int, default=8)
    parser.add_argument('--lr', type=number(0, low_open=True), default=2e-3,
                        help='AdamW lr of the training')
    parser.add_argument('--finetune-lr', type=number(0, low_open=True), default=5e-4)
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.levels[0] > args.levels[1]:
        parser.error(f'--levels must be LOW HIGH with LOW <= HIGH, got {args.levels}')
    if args.few_labels > args.num_train:
        parser.error(f'--few-labels {args.few_labels} exceeds --num-train {args.num_train}')
    return args


# ----------------------------------------------------------------------------- one seed ----
def make_data(root: str, args: argparse.Namespace, seed: int) -> None:
    """Night scenes + dark copies, and the dark val images under the classic baselines."""
    import cv2

    from mmlowlight.apis.classic_baselines import auto_gamma, clahe
    from mmlowlight.datasets.synthetic import generate_night_scenes_dataset
    size = (args.image_size, args.image_size)
    generate_night_scenes_dataset(root, {'train': args.num_train, 'val': args.num_val},
                                  seed=seed, image_size=size, level_range=tuple(args.levels))
    for name, fn in (('gamma', auto_gamma), ('clahe', lambda im: clahe(im, bgr=True))):
        out_dir = osp.join(root, name, 'val')
        os.makedirs(out_dir, exist_ok=True)
        for file in sorted(os.listdir(osp.join(root, 'dark', 'val'))):
            image = cv2.imread(osp.join(root, 'dark', 'val', file), cv2.IMREAD_COLOR)
            cv2.imwrite(osp.join(out_dir, file), fn(image))


def det_model() -> dict:
    """mmdet's RetinaNet-R18-FPN, narrowed for 128 px images and trained from scratch."""
    from mmengine.hub import get_config
    model = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    model.backbone.update(base_channels=16, out_indices=(1, 2, 3), frozen_stages=-1,
                          norm_eval=False, init_cfg=None)
    model.neck.update(in_channels=[32, 64, 128], out_channels=64, start_level=0,
                      add_extra_convs=False, num_outs=3)
    model.bbox_head.update(num_classes=3, in_channels=64, feat_channels=64, stacked_convs=2)
    model.bbox_head.anchor_generator.update(octave_base_scale=2, strides=[8, 16, 32])
    model.data_preprocessor.update(mean=MEAN, std=STD, bgr_to_rgb=True, pad_size_divisor=32)
    return model.to_dict()


def seg_model(image_size: int) -> dict:
    """An FCN head on a quarter-width ResNet-18-V1c (output stride 8), from scratch."""
    norm = dict(type='BN', requires_grad=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True,
                               pad_val=0, seg_pad_val=255, size=(image_size, image_size)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=16, base_channels=16,
                      num_stages=4, out_indices=(3, ), dilations=(1, 1, 2, 4),
                      strides=(1, 2, 1, 1), norm_cfg=norm, norm_eval=False,
                      contract_dilation=True),
        decode_head=dict(type='FCNHead', in_channels=128, in_index=0, channels=64,
                         num_convs=1, concat_input=False, dropout_ratio=0.1, num_classes=4,
                         norm_cfg=norm, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                          loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def det_dataloader(root: str, img_dir: str, split: str, args: argparse.Namespace, train: bool,
                   num_images: Optional[int] = None) -> dict:
    from mmlowlight.datasets.synthetic import SHAPE_CLASSES
    size = args.image_size
    # Resize to the generated size is a no-op that records scale_factor (the head needs it).
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=(size, size), keep_ratio=True)]
    pipeline += [dict(type='RandomFlip', prob=0.5)] if train else []
    pipeline += [dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                       'img_shape', 'scale_factor', 'flip',
                                                       'flip_direction'))]
    return dict(
        batch_size=args.batch_size, num_workers=0,
        sampler=dict(type='InfiniteSampler' if train else 'DefaultSampler', shuffle=train),
        dataset=dict(type='CocoDataset', data_root=root, metainfo=dict(classes=SHAPE_CLASSES),
                     ann_file=f'annotations/{split}.json', indices=num_images,
                     data_prefix=dict(img=f'{img_dir}/{split}/'), test_mode=not train,
                     filter_cfg=dict(filter_empty_gt=False), pipeline=pipeline))


def seg_dataloader(root: str, img_dir: str, split: str, args: argparse.Namespace, train: bool,
                   num_images: Optional[int] = None) -> dict:
    from mmlowlight.datasets.synthetic import SEGMENTATION_CLASSES
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    pipeline += [dict(type='RandomFlip', prob=0.5)] if train else []
    pipeline += [dict(type='PackSegInputs')]
    palette = [[0, 0, 0], [220, 20, 60], [0, 128, 255], [255, 200, 0]]
    return dict(
        batch_size=args.batch_size, num_workers=0,
        sampler=dict(type='InfiniteSampler' if train else 'DefaultSampler', shuffle=train),
        dataset=dict(type='BaseSegDataset', data_root=root, indices=num_images,
                     metainfo=dict(classes=SEGMENTATION_CLASSES, palette=palette),
                     data_prefix=dict(img_path=f'{img_dir}/{split}',
                                      seg_map_path=f'masks/{split}'),
                     img_suffix='.png', seg_map_suffix='.png', test_mode=not train,
                     pipeline=pipeline))


def enhancer_overrides(args: argparse.Namespace) -> dict:
    """SGZEnhancer keys over the checkpoint's recorded pipeline: --enhancer-config's, then
    --enhancer-scale."""
    overrides = {}
    if args.enhancer_config:
        from mmlowlight.apis.inference import enhancer_args_from_config
        from mmlowlight.models.enhancers.pipeline_config import plain
        overrides = plain(enhancer_args_from_config(args.enhancer_config))
    if args.enhancer_scale is not None:
        overrides['scale_factor'] = args.enhancer_scale
    return overrides


class SeedRun:
    """The phases of one seed, each run once and its result kept in ``phases.json``."""

    def __init__(self, args: argparse.Namespace, seed: int, work_dir: str) -> None:
        self.args, self.seed, self.work_dir = args, seed, work_dir
        self.root = osp.join(work_dir, 'data')
        self.det = args.task == 'det'
        self.phases_file = osp.join(work_dir, 'phases.json')
        self.phases = _read_json(self.phases_file) or {}
        self.timings: Dict[str, float] = {}

    # --- bookkeeping
    def _settings(self, *keys: str) -> dict:
        return {k: getattr(self.args, k) for k in keys} | dict(seed=self.seed)

    def phase(self, name: str, settings: dict, fn: Callable[[], object]) -> object:
        """``fn()``'s result, computed once per ``settings`` (kept across runs)."""
        done = self.phases.get(name)
        if done is not None and done['settings'] == json.loads(json.dumps(settings)):
            return done['result']
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools' progress prints
            result = fn()
        self.timings[name] = time.perf_counter() - t0
        print(f'[seed {self.seed}] {name}: {self.timings[name]:.0f} s', flush=True)
        self.phases[name] = dict(settings=settings, result=result, seconds=self.timings[name])
        _write_json(self.phases, self.phases_file)
        return result

    # --- Runner plumbing
    def _base_cfg(self, name: str, model: dict):
        from mmengine.config import Config
        scope = 'mmdet' if self.det else 'mmseg'
        return Config(dict(
            default_scope=scope, model=model,
            work_dir=osp.join(self.work_dir, name), experiment_name=name,
            default_hooks=dict(
                timer=dict(type='IterTimerHook'), logger=dict(type='LoggerHook', interval=50),
                param_scheduler=dict(type='ParamSchedulerHook'),
                checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10**9,
                                save_last=True),
                sampler_seed=dict(type='DistSamplerSeedHook')),
            env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
            randomness=dict(seed=self.seed), log_level='WARNING'))

    def _model(self, preprocessor: Optional[dict]) -> dict:
        model = det_model() if self.det else seg_model(self.args.image_size)
        if preprocessor is not None:
            model['data_preprocessor'] = dict(model['data_preprocessor'], **preprocessor)
        return model

    def _loader(self, img_dir: str, split: str, train: bool,
                num_images: Optional[int] = None) -> dict:
        make = det_dataloader if self.det else seg_dataloader
        return make(self.root, img_dir, split, self.args, train, num_images)

    def train(self, name: str, img_dir: str, iters: int, lr: float,
              num_images: Optional[int] = None, load_from: Optional[str] = None,
              preprocessor: Optional[dict] = None, hooks: Optional[list] = None) -> str:
        """Train (or fine-tune) on ``img_dir`` train images; returns the last checkpoint."""
        from mmengine.runner import Runner
        cfg = self._base_cfg(name, self._model(preprocessor))
        cfg.merge_from_dict(dict(
            load_from=load_from, custom_hooks=hooks or [],
            train_dataloader=self._loader(img_dir, 'train', True, num_images),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=10**9),
            optim_wrapper=dict(optimizer=dict(type='AdamW', lr=lr, weight_decay=0.05),
                               clip_grad=dict(max_norm=10.0)),
            param_scheduler=[
                dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
                     end=min(50, iters)),
                dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=iters,
                     eta_min=lr * 0.01)]))
        runner = Runner.from_cfg(cfg)
        runner.train()
        return osp.join(runner.work_dir, f'iter_{iters}.pth')

    def evaluate(self, name: str, img_dir: str, checkpoint: str,
                 preprocessor: Optional[dict] = None) -> float:
        """bbox mAP (det) or mIoU (seg, as a fraction) of ``checkpoint`` on ``img_dir`` val."""
        from mmengine.runner import Runner
        cfg = self._base_cfg(name, self._model(preprocessor))
        if self.det:
            evaluator = dict(type='CocoMetric', metric='bbox',
                             ann_file=osp.join(self.root, 'annotations', 'val.json'))
        else:
            evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
        loader = self._loader(img_dir, 'val', False)
        loader['batch_size'] = 8
        cfg.merge_from_dict(dict(load_from=checkpoint, test_dataloader=loader,
                                 test_evaluator=evaluator, test_cfg=dict(type='TestLoop')))
        metrics = Runner.from_cfg(cfg).test()
        if self.det:  # CocoMetric returns {} when nothing was detected: an mAP of 0
            return float(metrics.get('coco/bbox_mAP', 0.0))
        return float(metrics['mIoU']) / 100

    def sgz(self, checkpoint: str, freeze: bool, overrides: Optional[dict] = None) -> dict:
        """The low-light preprocessor as the shipped configs build it: the pipeline the
        checkpoint records, ``overrides`` (SGZEnhancer keys) over it."""
        kind = 'LowLightDetDataPreprocessor' if self.det else 'LowLightSegDataPreProcessor'
        enhancer = dict(type='mmlowlight.SGZEnhancer', **overrides) if overrides else None
        cfg = dict(type=f'mmlowlight.{kind}', enhancer=enhancer, enhancer_checkpoint=checkpoint,
                   freeze=freeze)
        if not freeze:
            cfg['aux_losses'] = AUX_LOSSES[self.args.aux_losses]
        return cfg

    def adapt(self, name: str, model_checkpoint: str, with_guide: bool) -> str:
        """Adapt the default enhancer to the frozen model on the unlabelled dark train images
        (the recipe of configs/sgz/sgz_adapt-to-*): zero-reference losses and the drift guard,
        plus the model's own loss on its confident predictions (``with_guide``)."""
        from mmengine.config import Config

        from mmlowlight.apis import DEFAULT_CHECKPOINT, build_runner
        args = self.args
        losses = [dict(loss) for loss in AUX_LOSSES['range']] + [dict(type='OutputAnchorLoss')]
        if with_guide:
            guide = dict(type='MMDetGuide' if self.det else 'MMSegGuide',
                         config=dict(model=self._model(None)), checkpoint=model_checkpoint)
            losses.append(dict(type='PseudoLabelGuidanceLoss', guide=guide,
                               score_threshold=args.guide_threshold,
                               loss_weight=args.guide_weight))
        pipeline = [dict(type='LoadImageFromFile'),
                    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
                    dict(type='PackEnhanceInputs')]
        cfg = Config(dict(
            default_scope='mmlowlight', work_dir=osp.join(self.work_dir, name),
            experiment_name=name, load_from=DEFAULT_CHECKPOINT,
            # The pipeline the default weights record, the exposure control's gradient aware
            # that its scale undoes a weaker map (without it the map collapses in ~100 steps).
            model=dict(type='ZeroShotEnhancer', losses=losses, enhancer=dict(
                type='SGZEnhancer', exposure_control=dict(scale_aware_grad=True))),
            train_dataloader=dict(
                batch_size=args.batch_size, num_workers=0,
                sampler=dict(type='InfiniteSampler', shuffle=True),
                dataset=dict(type='UnpairedImageDataset',
                             data_root=osp.join(self.root, 'dark', 'train'),
                             pipeline=pipeline)),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=args.adapt_iters,
                           val_interval=10**9),
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=args.adapt_lr, weight_decay=1e-4),
                               clip_grad=dict(max_norm=0.1)),
            default_hooks=dict(
                timer=dict(type='IterTimerHook'), logger=dict(type='LoggerHook', interval=10),
                param_scheduler=dict(type='ParamSchedulerHook'),
                checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=10**9,
                                save_last=True)),
            custom_hooks=[dict(type='EnhancerPipelineHook')],
            env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
            randomness=dict(seed=self.seed), log_level='WARNING'))
        runner = build_runner(cfg)
        runner.train()
        return osp.join(runner.work_dir, f'iter_{args.adapt_iters}.pth')

    # --- the seed's measurement
    def run(self) -> dict:
        from mmlowlight.apis import DEFAULT_CHECKPOINT
        args = self.args
        data = self._settings('num_train', 'num_val', 'image_size', 'levels')
        self.phase('data', data, lambda: make_data(self.root, args, self.seed))
        trained = data | self._settings('task', 'train_iters', 'batch_size', 'lr')
        model = self.phase('train normal', trained, lambda: self.train(
            'train_normal', 'images', args.train_iters, args.lr))
        scores: Dict[str, float] = {}

        def score(row: str, img_dir: str, checkpoint: str, pre: Optional[dict] = None,
                  extra: Optional[dict] = None, phase_suffix: str = '') -> None:
            name = f'eval {row}{phase_suffix}'
            key = ''.join(c if c.isalnum() else '_' for c in name)
            scores[row] = self.phase(name, trained | (extra or {}), lambda: self.evaluate(
                key, img_dir, checkpoint, pre))

        score('normal light', 'images', model)
        score('dark', 'dark', model)
        score('dark + auto gamma', 'gamma', model)
        score('dark + CLAHE', 'clahe', model)
        if osp.isfile(args.official_checkpoint):
            score('dark + official SGZ', 'dark', model,
                  self.sgz(args.official_checkpoint, True), dict(ckpt=args.official_checkpoint))
        default = args.enhancer_checkpoint or DEFAULT_CHECKPOINT
        overrides = enhancer_overrides(args)
        # (overrides enter the settings only when given: records of plain runs stay valid)
        which = dict(ckpt=default) | (dict(overrides=overrides) if overrides else {})
        score('dark + SGZ default pipeline', 'dark', model, self.sgz(default, True, overrides),
              which)
        if 'adapt' in args.budgets:
            adapt = trained | dict(iters=args.adapt_iters, lr=args.adapt_lr,
                                   threshold=args.guide_threshold, ckpt=default,
                                   guide_weight=args.guide_weight,
                                   exposure_grad='scale-aware')
            for arm, with_guide in (('model as guide', True),
                                    ('zero-reference only (control)', False)):
                key = 'guide' if with_guide else 'zeroref'
                adapted = self.phase(f'adapt {key}', adapt, lambda: self.adapt(
                    f'adapt_{key}', model, with_guide))
                score(f'0 labels, adapted: {arm}', 'dark', model, self.sgz(adapted, True),
                      adapt)
        budgets = [(name, count, iters) for name, count, iters in (
            ('few', args.few_labels, args.few_iters), ('all', args.num_train, args.all_iters))
            if name in args.budgets]
        for budget, count, iters in budgets:
            tuned = trained | dict(count=count, iters=iters, lr=args.finetune_lr)
            label = f'{budget} labels ({count})'
            control = self.phase(f'finetune {budget} control', tuned, lambda: self.train(
                f'finetune_{budget}_control', 'dark', iters, args.finetune_lr, count, model))
            score(f'{label}: model-only fine-tune (control)', 'dark', control, None, tuned)
            joint_settings = tuned | which | dict(aux=args.aux_losses)
            aux = args.aux_losses  # in the phase names: both variants can be kept side by side
            joint = self.phase(f'finetune {budget} joint {aux}', joint_settings, lambda: self.train(
                f'finetune_{budget}_joint_{aux}', 'dark', iters, args.finetune_lr, count, model,
                self.sgz(default, False, overrides), [dict(type='mmlowlight.AuxLossHook')]))
            # The joint checkpoint records its pipeline (AuxLossHook): enhancer=None rebuilds it.
            score(f'{label}: joint SGZ + model fine-tune', 'dark', joint,
                  self.sgz(joint, True), joint_settings, phase_suffix=f' {aux}')
        return scores


# ----------------------------------------------------------------------------- all seeds ---
def recovery(value: float, normal: float, dark: float) -> float:
    """Share of the score lost to darkness that a row wins back (percent)."""
    return 100.0 * (value - dark) / (normal - dark) if normal != dark else float('nan')


def summarise(per_seed: Dict[int, Dict[str, float]], metric: str) -> str:
    """Markdown table: score and recovered share, mean ± std over the seeds."""
    rows = list(next(iter(per_seed.values())))
    lines = [f'| condition | {metric} | recovered share of the lost {metric} | per seed (%) |',
             '|---|---|---|---|']
    for row in rows:
        values = np.array([s[row] for s in per_seed.values() if row in s])
        rec = np.array([recovery(s[row], s['normal light'], s['dark'])
                        for s in per_seed.values() if row in s])
        score = f'{values.mean():.3f} ± {_std(values):.3f}'
        if row in ('normal light', 'dark'):
            lines.append(f'| {row} | {score} | | |')
        else:
            lines.append(f'| {row} | {score} | **{rec.mean():.0f} ± {_std(rec):.0f} %** | '
                         f'{", ".join(f"{r:.0f}" for r in rec)} |')
    lines += ['', '| paired by seed | difference in recovered share (points) | per seed |',
              '|---|---|---|']
    for name, better, worse in comparisons(rows):
        diff = np.array([recovery(s[better], s['normal light'], s['dark']) -
                         recovery(s[worse], s['normal light'], s['dark'])
                         for s in per_seed.values() if better in s and worse in s])
        lines.append(f'| {name} | **{diff.mean():+.1f} ± {_std(diff):.1f}** | '
                     f'{", ".join(f"{d:+.0f}" for d in diff)} |')
    return '\n'.join(lines)


def comparisons(rows: List[str]) -> List[tuple]:
    """(label, row, row it is compared with) of the questions the benchmark answers."""
    pairs = [('SGZ default pipeline - official SGZ (frozen)', 'dark + SGZ default pipeline',
              'dark + official SGZ')]
    best_trivial = [r for r in ('dark + auto gamma', 'dark + CLAHE') if r in rows]
    pairs += [(f'SGZ default pipeline - {r[len("dark + "):]} (frozen)',
               'dark + SGZ default pipeline', r) for r in best_trivial]
    guided = '0 labels, adapted: model as guide'
    pairs += [('adapted with the model as guide - frozen default', guided,
               'dark + SGZ default pipeline'),
              ('adapted with the model as guide - zero-reference control', guided,
               '0 labels, adapted: zero-reference only (control)')]
    for row in rows:
        if row.endswith('joint SGZ + model fine-tune'):
            budget = row.split(':')[0]
            pairs.append((f'{budget}: joint - control', row,
                          f'{budget}: model-only fine-tune (control)'))
    return [p for p in pairs if p[1] in rows and p[2] in rows]


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def bar_chart(per_seed: Dict[int, Dict[str, float]], metric: str, path: str) -> None:
    """Recovered share per condition, mean and std over the seeds, each seed as a dot."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in next(iter(per_seed.values())) if r not in ('normal light', 'dark')]
    recs = [[recovery(s[r], s['normal light'], s['dark']) for s in per_seed.values() if r in s]
            for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, [np.mean(r) for r in recs], xerr=[_std(np.array(r)) for r in recs],
            color='#4c72b0', alpha=0.8, capsize=3)
    for yi, r in zip(y, recs):
        ax.plot(r, [yi] * len(r), 'k.', ms=4)
    ax.set_yticks(y, rows, fontsize=8)
    ax.axvline(0, color='k', lw=0.8)
    ax.axvline(100, color='grey', lw=0.8, ls='--')
    ax.set_xlabel(f'share of the {metric} lost to darkness recovered (%), '
                  f'{len(per_seed)} seeds')
    fig.tight_layout()
    tmp = path + '.tmp.png'
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def run_seeds_in_children(args: argparse.Namespace, argv: List[str]) -> None:
    """Each seed in a process of its own (one torch thread), ``--jobs`` at a time."""
    pending = list(args.seeds)
    running: List[subprocess.Popen] = []
    failed = []
    while pending or running:
        while pending and len(running) < args.jobs:
            seed = pending.pop(0)
            command = [sys.executable, osp.abspath(__file__), *argv, '--child', '--seeds',
                       str(seed)]
            # Library deprecation warnings of every phase would bury the progress lines.
            env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
                       PYTHONWARNINGS='ignore')
            running.append(subprocess.Popen(command, env=env))
        time.sleep(2)
        for proc in [p for p in running if p.poll() is not None]:
            running.remove(proc)
            if proc.returncode:
                failed.append(proc.args[-1])
    if failed:
        raise SystemExit(f'error: the runs of seeds {", ".join(failed)} failed (see above)')


def _strip_seeds(argv: List[str]) -> List[str]:
    out, skip = [], False
    for token in argv:
        if token == '--seeds':
            skip = True
            continue
        if skip and not token.startswith('--'):
            continue
        skip = False
        out.append(token)
    return out


def _read_json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _write_json(obj: dict, path: str) -> None:
    from mmlowlight.utils import write_json_atomic
    write_json_atomic(obj, path, indent=2)


def main(argv: Optional[List[str]] = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    seed_dir = (lambda seed: osp.join(args.work_dir, f'seed_{seed}'))
    if args.child or len(args.seeds) == 1 or args.jobs == 1:
        import torch

        import mmlowlight  # noqa: F401  (registers modules; weights_only checkpoint loader)
        torch.set_num_threads(1 if args.child else torch.get_num_threads())
        for seed in args.seeds:
            run = SeedRun(args, seed, seed_dir(seed))
            scores = run.run()
            _write_json(dict(seed=seed, scores=scores), osp.join(seed_dir(seed), 'scores.json'))
        if args.child:
            return
    else:
        start = time.perf_counter()
        run_seeds_in_children(args, _strip_seeds(argv))
        print(f'all seeds: {time.perf_counter() - start:.0f} s wall')
    per_seed = {seed: _read_json(osp.join(seed_dir(seed), 'scores.json'))['scores']
                for seed in args.seeds}
    metric = 'bbox mAP' if args.task == 'det' else 'mIoU'
    table = summarise(per_seed, metric)
    chart = osp.join(args.work_dir, f'recovery_{args.task}.png')
    bar_chart(per_seed, metric, chart)
    settings = {k: v for k, v in vars(args).items() if k != 'child'}
    _write_json(dict(settings=settings, per_seed=per_seed, table=table),
                osp.join(args.work_dir, f'results_{args.task}.json'))
    print(f'\n{table}\n\nseeds {args.seeds}; results_{args.task}.json and {osp.basename(chart)}'
          f' in {args.work_dir}')


if __name__ == '__main__':
    main()
