"""Convert official SGZ weights (``Epoch99.pth``) to an mmlowlight checkpoint.

Usage:
    python tools/convert_official.py OFFICIAL.pth OUT.pth [--scale-factor 12]

The output is ``{'state_dict': ..., 'meta': {...}}`` with ``SGZEnhancer`` keys; it loads with
``init_enhancer(checkpoint=OUT.pth)`` and as ``load_from`` of a standalone config. Official files
load directly too (``init_enhancer`` recognises their keys); converting makes the architecture
explicit and the file loadable by mmengine tools.
"""
import argparse
import os.path as osp

import torch

from mmlowlight.apis.cli_errors import exit_on_user_error
from mmlowlight.apis.inference import OFFICIAL_SCALE_FACTOR
from mmlowlight.models.enhancers import (convert_official_state_dict, infer_enhancer_args,
                                         is_official_state_dict)
from mmlowlight.utils import atomic_output, load_checkpoint_file


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official state dict (e_conv1.depth_conv.weight, ...)')
    parser.add_argument('dst', help='output checkpoint')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with exit_on_user_error():
        state_dict = load_checkpoint_file(args.src)
    if isinstance(state_dict, dict) and 'state_dict' in state_dict:
        state_dict = state_dict['state_dict']
    if not is_official_state_dict(state_dict):
        raise SystemExit(f'{args.src}: not an official SGZ state dict (keys e_conv1..7)')
    converted = convert_official_state_dict(state_dict)
    meta = dict(source=osp.basename(args.src),
                enhancer=dict(infer_enhancer_args(converted), scale_factor=OFFICIAL_SCALE_FACTOR))
    # Written beside the target and renamed: an interrupted run never leaves a partial file.
    with atomic_output(args.dst) as tmp:
        torch.save(dict(state_dict=converted, meta=meta), tmp)
    print(f'{args.src} -> {args.dst}: {len(converted)} tensors, {meta["enhancer"]}')


if __name__ == '__main__':
    main()
