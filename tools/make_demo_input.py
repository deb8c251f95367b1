"""Write dark, noisy copies of scikit-image's sample photos (the ``make demo`` input).

    python tools/make_demo_input.py outputs/demo/input --note outputs/demo/enhanced/README.txt

The grain is on purpose: the photos are underexposed through a camera model with photon shot
noise and sensor read noise, as a phone's night shot is, not just dimmed. ``--note`` writes a
short text saying so, for the folder where the panels are looked at.
"""
import argparse
import inspect
import os.path as osp
import sys
import textwrap

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/: cli_types
from cli_types import number  # noqa: E402

# mmlowlight (torch, numba) is imported after the command line is parsed: --help answers at once.


def describe_inputs(exposure: float) -> str:
    """What the demo inputs are, as a short text wrapped at 79 columns."""
    from mmlowlight.apis.demo_data import synthesize_low_light
    defaults = {name: p.default for name, p in
                inspect.signature(synthesize_low_light).parameters.items()}
    about = (
        "The inputs are scikit-image's sample photos (coffee, astronaut, chelsea), darkened on "
        f'purpose to {exposure:.0%} of their light through a camera model with photon shot '
        f"noise (full well {defaults['full_well']:g} electrons) and sensor read noise "
        f"({defaults['read_noise']:g} electrons), then saved as JPEG. That is what a dark "
        'phone capture looks like: the grain and colour noise of the input are part of the '
        'test, which the enhancer has to cope with, not a defect of the files.')
    return ('About the demo input (tools/make_demo_input.py)\n\n' + textwrap.fill(about, 79)
            + '\n\nEach panel: input (left) | enhanced (right).\n')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='folder to write the dark JPEGs to')
    parser.add_argument('--exposure', type=number(0, 1, low_open=True), default=0.03,
                        help='fraction of the original light kept (default 0.03)')
    parser.add_argument('--note', metavar='FILE',
                        help='also write a text file saying what the inputs are (e.g. beside '
                        'the enhanced panels)')
    args = parser.parse_args(argv)
    from mmlowlight.apis.demo_data import write_demo_inputs
    from mmlowlight.utils import atomic_write_bytes
    for path in write_demo_inputs(args.out_dir, args.exposure):
        print(path)
    if args.note:
        atomic_write_bytes(args.note, describe_inputs(args.exposure).encode())
        print(args.note)
    return 0


if __name__ == '__main__':
    sys.exit(main())
