"""Convert the ExDark annotations to COCO json files, one per split.

Example::

    python tools/dataset_converters/exdark2coco.py data/exdark/ExDark \
        data/exdark/ExDark_Annno data/exdark/imageclasslist.txt -o data/exdark/annotations

writes ``exdark_{train,val,test}.json`` (the official split of ``imageclasslist.txt``), the files
``configs/_base_/datasets/exdark_detection.py`` reads.
"""
import argparse

from mmlowlight.datasets.converters import convert_exdark
from mmlowlight.datasets.converters.cli import add_output_arguments, run_converter


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ExDark (bbGt txt) -> COCO json')
    parser.add_argument('image_root', help='the ExDark image folder (one sub-folder per class)')
    parser.add_argument('ann_root', help='the ExDark_Annno folder (bbGt .txt files)')
    parser.add_argument('split_file', help='the official imageclasslist.txt')
    add_output_arguments(parser)
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'],
                        choices=['train', 'val', 'test'])
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    run_converter(convert_exdark, args.image_root, args.ann_root, args.split_file, args.out_dir,
                  splits=args.splits, skip_invalid=args.skip_invalid)


if __name__ == '__main__':
    main()
