"""Enhance dark photos and videos: files, folders (tree mirrored), globs; resumable.

    python tools/enhance.py dark.jpg holiday/ 'scans/**/*.png' night.mp4 -o enhanced/

Exit status 0 when every input was enhanced (or already was), 1 when any failed.
"""
import argparse
import os
import sys

# Set before torch loads OpenMP: on shared CPUs, threads that spin at barriers while a sibling is
# preempted made 2-thread inference up to 100x slower (measured on 2 shared cores); sleeping
# waiters cost a little on an idle machine. An explicit setting in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmlowlight.apis import enhance_files, init_enhancer  # noqa: E402
from mmlowlight.apis.cli_errors import exit_on_user_error  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Enhance low-light images and videos with SGZ.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('inputs', nargs='+',
                        help='image/video files, folders (recursive) or glob patterns')
    parser.add_argument('-o', '--out-dir', required=True, help='output folder')
    parser.add_argument('--config', help='config holding the SGZEnhancer (default: '
                        'architecture read off the checkpoint)')
    parser.add_argument('--checkpoint', help='our checkpoint or the official SGZ Epoch99.pth '
                        '(default: the package\'s weights, mmlowlight.apis.DEFAULT_CHECKPOINT)')
    parser.add_argument('--scale-factor', type=float,
                        help='the factor map is estimated at 1/scale-factor resolution (default: '
                        'what the checkpoint records: 4 for the package\'s weights, 12, the '
                        'official inference setting, for official SGZ weights; 1 is full '
                        'resolution, slow)')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda, cuda:1')
    parser.add_argument('--batch-size', type=int, default=4,
                        help='equal-size images or video frames per forward pass')
    parser.add_argument('--side-by-side', action='store_true',
                        help='write input | enhanced panels')
    parser.add_argument('--overwrite', action='store_true',
                        help='redo outputs that exist (by default they are skipped)')
    parser.add_argument('--ext', help='output image format, e.g. png (default: the input\'s)')
    parser.add_argument('--temporal-smoothing', type=float, default=0.0, metavar='ALPHA',
                        help='videos: EMA weight of past factor maps in [0, 1), against '
                        'flicker; 0 disables it')
    parser.add_argument('--no-progress', action='store_true', help='hide progress bars')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    overrides = {} if args.scale_factor is None else dict(scale_factor=args.scale_factor)
    with exit_on_user_error():  # a bad checkpoint or device: one line, no traceback
        model = init_enhancer(args.config, args.checkpoint, device=args.device, **overrides)
    report = enhance_files(
        model, args.inputs, args.out_dir, batch_size=args.batch_size, ext=args.ext,
        overwrite=args.overwrite, side_by_side=args.side_by_side,
        temporal_smoothing=args.temporal_smoothing, progress=not args.no_progress)
    print(report.format(), file=sys.stderr)
    return report.exit_code


if __name__ == '__main__':
    sys.exit(main())
