"""Export the SGZ enhancer to ONNX (dynamic batch, height, width) and check it.

The graph holds the whole pipeline the weights record: the EFE, the exposure control and the
denoiser where configured, and the curve.

    python tools/deploy/export_onnx.py --checkpoint Epoch99.pth --scale-factor 12 -o sgz.onnx

Needs onnx, onnxscript and onnxruntime (``pip install mmlowlight[onnx]``).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
from cli_types import number, positive_float  # noqa: E402

# mmlowlight (torch, onnx) is imported after the command line is parsed: --help answers at once.


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export SGZEnhancer to ONNX with dynamic H and W.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('-o', '--output', required=True, help='output .onnx file')
    parser.add_argument('--config', help='config holding the SGZEnhancer')
    parser.add_argument('--checkpoint', help='weights (default: the package\'s)')
    parser.add_argument('--scale-factor', type=number(1),
                        help='baked into the graph (default: what the checkpoint records; 12 '
                        'for official SGZ weights)')
    parser.add_argument('--opset', type=number(17, 23, integer=True), default=18,
                        help='ONNX opset version')
    parser.add_argument('--no-check', action='store_true',
                        help='skip the onnxruntime vs PyTorch comparison')
    parser.add_argument('--tolerance', type=positive_float, default=1e-4,
                        help='largest accepted |onnxruntime - PyTorch|')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmlowlight.apis import init_enhancer
    from mmlowlight.apis.cli_errors import exit_on_user_error
    from mmlowlight.apis.onnx_export import compare_with_onnxruntime, export_onnx
    overrides = {} if args.scale_factor is None else dict(scale_factor=args.scale_factor)
    with exit_on_user_error():
        model = init_enhancer(args.config, args.checkpoint, **overrides)
    export_onnx(model, args.output, opset_version=args.opset)
    print(f'wrote {args.output}')
    if args.no_check:
        return 0
    diff = compare_with_onnxruntime(model, args.output)
    print(f'max |onnxruntime - PyTorch| = {diff:.3g} (tolerance {args.tolerance:g})')
    return 0 if diff <= args.tolerance else 1


if __name__ == '__main__':
    sys.exit(main())
