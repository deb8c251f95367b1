"""Extract the enhancer of a training checkpoint into a small standalone weights file.

Usage:
    python tools/model_converters/publish_enhancer.py CONFIG CHECKPOINT OUT.pth \
        [--cfg-options model.enhancer.denoiser.detail_radius=1 ...]

Keeps only the ``SGZEnhancer`` tensors (about 50 KB for the dsc EFE) and records the enhancer's
constructor arguments from CONFIG in ``meta['enhancer']``, so that ``init_enhancer(checkpoint=
OUT.pth)`` rebuilds it as trained (e.g. with its ``scale_factor``). ``--cfg-options`` changes
what is recorded, for the parameter-free modules whose inference settings differ from those the
weights were trained with (CHECKPOINT may then be a published weights file itself). This is how
the package's default weights (``mmlowlight/weights/sgz_default.pth``) are made; the README's
model card gives the command.
"""
import argparse
import hashlib
import os.path as osp

import torch
from mmengine.config import Config, DictAction

from mmlowlight.apis import init_enhancer
from mmlowlight.apis.cli_errors import exit_on_user_error
from mmlowlight.apis.inference import enhancer_args_from_config
from mmlowlight.models.enhancers.pipeline_config import plain
from mmlowlight.utils import atomic_output, load_checkpoint_file


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('config', help='the training config')
    parser.add_argument('checkpoint', help='a checkpoint written by tools/train.py')
    parser.add_argument('out', help='output weights file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides, KEY=VALUE '
                        '(e.g. model.enhancer.denoiser.detail_radius=1)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    enhancer_args = plain(enhancer_args_from_config(cfg))
    enhancer_args.pop('init_cfg', None)
    with exit_on_user_error():
        model = init_enhancer(cfg, checkpoint=args.checkpoint)  # validates that the weights fit
    source_meta = load_checkpoint_file(args.checkpoint).get('meta', {})
    meta = dict(
        enhancer=enhancer_args,
        config=osp.basename(args.config),
        # 'iter': a tools/train.py checkpoint; 'iterations': a weights file published before.
        iterations=source_meta.get('iter', source_meta.get('iterations')),
        seed=source_meta.get('seed'))
    state_dict = {k: v.clone() for k, v in model.state_dict().items()}
    # Written beside the target and renamed: an interrupted run never leaves a partial file.
    with atomic_output(args.out) as tmp:
        torch.save(dict(state_dict=state_dict, meta=meta), tmp)
    with open(args.out, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:8]
    print(f'{args.out}: {osp.getsize(args.out)} bytes, sha256 {digest}, meta {meta}')


if __name__ == '__main__':
    main()
