"""Dark-scene detection / segmentation with and without SGZ, over seeds, in one command.

No real low-light detection or segmentation set can be downloaded here, so each seed

1. renders night scenes (:mod:`mmlowlight.datasets.synthetic.night_scenes`): shapes on crops of
   real photographs, lamps whose glare no single gain fits, and a dark copy of every scene
   captured with shot and read noise at a mean grey level of 5-40 (LOL's spread);
2. trains a small model on the normal-light train split with mmengine's Runner: RetinaNet with a
   quarter-width ResNet-18 (``--task det``, COCO bbox mAP) or an FCN on a quarter-width
   ResNet-18-V1c (``--task seg``, mIoU);
3. measures it on the dark val split under three label budgets:

   - **0 labels** (the frozen model trained on normal light): no enhancement, auto gain,
     auto gamma, CLAHE (:mod:`mmlowlight.apis.classic_baselines`), official SGZ, and the
     package's default pipeline, the last two in ``LowLight{Det,Seg}DataPreprocessor``
     exactly as the shipped configs build them (``enhancer=None``: the pipeline each
     checkpoint records);
   - **few labels** (``--few-labels`` labelled dark train images) and **all labels**: the
     model fine-tuned on them with SGZ trained jointly (``freeze=False``, the zero-reference
     aux losses through ``AuxLossHook``) against the control that fine-tunes the model alone,
     the same iterations, data and optimiser.

One row is a reference, not an enhancer: ``gain to the scene's mean (oracle)`` reads each
scene's normal-light image to choose the one gain that restores its mean level, i.e. the
exposure correction a perfect meter would make (no denoising). The dark copies are exact
exposure changes of the scene in linear light, so under the default power-law encoding a
plain gain is nearly the right tone curve and the rows above it tell how far an enhancer gets
beyond a good meter. With ``--transfer srgb`` both images are encoded with the sRGB function,
linear near black, as cameras encode: the dark copies' shadows then fall on its steeper segment
and no gain undoes them (the relation the real LOL pairs show, see
``tools/analysis/tone_relation.py``).

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
only what they change (weights are known by their content: republished weights at the same
path are measured again).
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

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/analysis/: its helpers
from cli_types import number, positive_int  # noqa: E402
# (recovery, summarise, comparisons: re-exported for the tests and other scripts)
from downstream_report import bar_chart, comparisons, recovery, summarise  # noqa: E402,F401
from downstream_setup import (AUX_LOSSES, det_dataloader, det_model, seg_dataloader,  # noqa: E402
                              seg_model)

OFFICIAL_DEFAULT = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                            '..', 'shared', 'data', 'sgz_official', 'Epoch99.pth')


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
    parser.add_argument('--transfer', choices=('power', 'srgb'), default='power',
                        help='the camera\'s transfer function (LowLightSimulator): a 2.2 '
                        'power law (every dark copy an exposure change also in the encoded '
                        'values) or the sRGB function, linear near black (dark copies whose '
                        'shadows sit on its steeper segment, as in real captures)')
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
    parser.add_argument('--anchor-weight', type=number(0, low_open=True), default=10.0,
                        help='loss_weight of the drift guard (OutputAnchorLoss)')
    parser.add_argument('--anchor-margin', type=number(0), default=0.05,
                        help='free change per pixel of the drift guard')
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
    """Night scenes and their dark copies."""
    from mmlowlight.datasets.synthetic import LowLightSimulator, generate_night_scenes_dataset
    size = (args.image_size, args.image_size)
    generate_night_scenes_dataset(root, {'train': args.num_train, 'val': args.num_val},
                                  seed=seed, image_size=size, level_range=tuple(args.levels),
                                  simulator=LowLightSimulator(transfer=args.transfer))


#: Folder under the data root -> how its val images come from a dark image (BGR uint8) and
#: the scene's normal-light image (only the oracle reads it).
BASELINES = {
    'gain': lambda dark, normal: _baseline('auto_gain')(dark),
    'gamma': lambda dark, normal: _baseline('auto_gamma')(dark),
    'clahe': lambda dark, normal: _baseline('clahe')(dark, bgr=True),
    # A ceiling, not an enhancer: the one gain that gives the dark copy its scene's mean level.
    'gain_oracle': lambda dark, normal: _baseline('auto_gain')(
        dark, min(float(normal.mean()) / 255, 0.99)),
}


def _baseline(name: str) -> Callable:
    from mmlowlight.apis import classic_baselines
    return getattr(classic_baselines, name)


def write_baseline(root: str, name: str) -> None:
    """The dark val images under :data:`BASELINES` ``[name]``, in ``<root>/<name>/val``."""
    import cv2
    out_dir = osp.join(root, name, 'val')
    os.makedirs(out_dir, exist_ok=True)
    for file in sorted(os.listdir(osp.join(root, 'dark', 'val'))):
        dark = cv2.imread(osp.join(root, 'dark', 'val', file), cv2.IMREAD_COLOR)
        normal = cv2.imread(osp.join(root, 'images', 'val', file), cv2.IMREAD_COLOR)
        cv2.imwrite(osp.join(out_dir, file), BASELINES[name](dark, normal))


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
        #: The class a segmentor's confidence leaves out: 0, the scenes' background, most of
        #: every image (the mean over all pixels barely moved with the settings); None for
        #: detection.
        self.background_index = None if self.det else 0
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
        if self.det:
            evaluator = dict(type='CocoMetric', metric='bbox',
                             ann_file=osp.join(self.root, 'annotations', 'val.json'))
        else:
            evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
        metrics = self._test(name, self._loader(img_dir, 'val', False), checkpoint,
                             preprocessor, evaluator)
        if self.det:  # CocoMetric returns {} when nothing was detected: an mAP of 0
            return float(metrics.get('coco/bbox_mAP', 0.0))
        return float(metrics['mIoU']) / 100

    def confidence(self, name: str, checkpoint: str, preprocessor: dict) -> float:
        """The frozen model's confidence (:class:`mmlowlight.evaluation.ModelConfidence`) on
        the first ``--num-val`` dark *train* images, without their labels (a segmentor's over
        the pixels it does not call background)."""
        loader = self._loader('dark', 'train', False, self.args.num_val)
        evaluator = dict(type='mmlowlight.ModelConfidence',
                         background_index=self.background_index)
        metrics = self._test(name, loader, checkpoint, preprocessor, evaluator)
        return float(metrics['confidence'])

    def _test(self, name: str, loader: dict, checkpoint: str, preprocessor: Optional[dict],
              evaluator: dict) -> dict:
        from mmengine.runner import Runner
        cfg = self._base_cfg(name, self._model(preprocessor))
        loader['batch_size'] = 8
        cfg.merge_from_dict(dict(load_from=checkpoint, test_dataloader=loader,
                                 test_evaluator=evaluator, test_cfg=dict(type='TestLoop')))
        return Runner.from_cfg(cfg).test()

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
        losses = [dict(loss) for loss in AUX_LOSSES['range']] + [dict(
            type='OutputAnchorLoss', loss_weight=args.anchor_weight, margin=args.anchor_margin)]
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
            # that its scale undoes a weaker map (without it the map weakens unseen).
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
        if args.transfer != 'power':  # the power law's phases keep their settings
            data['transfer'] = args.transfer
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
        for row, folder in (('dark + auto gain', 'gain'), ('dark + auto gamma', 'gamma'),
                            ('dark + CLAHE', 'clahe'),
                            ('dark + gain to the scene\'s mean (oracle)', 'gain_oracle')):
            self.phase(f'baseline {folder}', data, lambda: write_baseline(self.root, folder))
            score(row, folder, model)
        if osp.isfile(args.official_checkpoint):
            score('dark + official SGZ', 'dark', model,
                  self.sgz(args.official_checkpoint, True),
                  dict(ckpt=weights_id(args.official_checkpoint)))
        default = args.enhancer_checkpoint or DEFAULT_CHECKPOINT
        overrides = enhancer_overrides(args)
        # (overrides enter the settings only when given: records of plain runs stay valid)
        which = dict(ckpt=weights_id(default)) | (dict(overrides=overrides) if overrides else {})
        score('dark + SGZ default pipeline', 'dark', model, self.sgz(default, True, overrides),
              which)
        if 'adapt' in args.budgets:
            adapt = trained | dict(iters=args.adapt_iters, lr=args.adapt_lr,
                                   threshold=args.guide_threshold, ckpt=weights_id(default),
                                   guide_weight=args.guide_weight,
                                   anchor=[args.anchor_weight, args.anchor_margin],
                                   exposure_grad='scale-aware')
            for arm, with_guide in (('model as guide', True),
                                    ('zero-reference only (control)', False)):
                key = 'guide' if with_guide else 'zeroref'
                adapted = self.phase(f'adapt {key}', adapt, lambda: self.adapt(
                    f'adapt_{key}', model, with_guide))
                score(f'0 labels, adapted: {arm}', 'dark', model, self.sgz(adapted, True),
                      adapt)
            # Label-free choice among settings (mmlowlight.apis.choose_enhancer_settings, here
            # on the benchmark's own loaders): the one the frozen model is surest with.
            from mmlowlight.apis import ENHANCER_CANDIDATES
            from mmlowlight.models.enhancers.pipeline_config import merge_enhancer_args
            chosen_settings = trained | which | dict(candidates=ENHANCER_CANDIDATES,
                                                     images=args.num_val)
            if self.background_index is not None:  # detection keys as before it existed
                chosen_settings['background_index'] = self.background_index
            candidates = {label: self.sgz(default, True, merge_enhancer_args(overrides, extra))
                          for label, extra in ENHANCER_CANDIDATES.items()}
            confidences = {}
            for label, candidate in candidates.items():
                key = 'confidence_' + ''.join(c if c.isalnum() else '_' for c in label)
                confidences[label] = self.phase(
                    f'confidence {label}', chosen_settings,
                    lambda: self.confidence(key, model, candidate))
            best = max(confidences, key=confidences.get)
            if any(name.startswith('confidence ') for name in self.timings):  # not cached
                print(f'[seed {self.seed}] confidence: ' + ', '.join(
                    f'{k} {v:.3f}' for k, v in confidences.items()) + f'; chosen: {best}',
                      flush=True)
            score('0 labels, settings chosen by the model\'s confidence', 'dark', model,
                  candidates[best], chosen_settings | dict(chosen=best))
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


def weights_id(path: str) -> str:
    """``path`` and the start of its content's SHA-256: the phases of other weights at the
    same path (the package's default, republished) are measured again."""
    import hashlib
    with open(path, 'rb') as f:
        return f'{path}#{hashlib.sha256(f.read()).hexdigest()[:12]}'


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
    if not args.child and not osp.isfile(args.official_checkpoint):
        print(f'note: no official SGZ weights at {args.official_checkpoint}: the "official SGZ" '
              'row is left out (pass --official-checkpoint PATH/Epoch99.pth)', flush=True)
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
