"""Write dark, noisy copies of scikit-image's sample photos (the ``make demo`` input).

    python tools/make_demo_input.py outputs/demo/input
"""
import argparse
import sys

from mmlowlight.apis.demo_data import write_demo_inputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='folder to write the dark JPEGs to')
    parser.add_argument('--exposure', type=float, default=0.03,
                        help='fraction of the original light kept (default 0.03)')
    args = parser.parse_args(argv)
    for path in write_demo_inputs(args.out_dir, args.exposure):
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
