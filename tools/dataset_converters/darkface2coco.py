"""Convert the DARK FACE labels to COCO json (a seeded train/val split of the labelled set).

Example::

    python tools/dataset_converters/darkface2coco.py data/darkface/image data/darkface/label \
        -o data/darkface/annotations --val-ratio 0.1 --seed 0

writes ``darkface_train.json`` and ``darkface_val.json``, the files
``configs/_base_/datasets/darkface_detection.py`` reads.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
from cli_types import non_negative_int, number  # noqa: E402

from mmlowlight.datasets.converters import convert_darkface
from mmlowlight.datasets.converters.cli import add_output_arguments, run_converter


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='DARK FACE (txt labels) -> COCO json')
    parser.add_argument('image_dir', help='folder of the labelled images')
    parser.add_argument('label_dir', help='folder of the <image stem>.txt label files')
    add_output_arguments(parser)
    parser.add_argument('--val-ratio', type=number(0, 1, high_open=True), default=0.1,
                        help='fraction of images in the val split (0 writes train only)')
    parser.add_argument('--seed', type=non_negative_int, default=0, help='seed of the split')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    run_converter(convert_darkface, args.image_dir, args.label_dir, args.out_dir,
                  val_ratio=args.val_ratio, seed=args.seed, skip_invalid=args.skip_invalid)


if __name__ == '__main__':
    main()
