"""argparse ``type=`` functions for the tools' numeric options.

A bad value is refused while the command line is parsed, in one line
(``enhance.py: error: argument --scale-factor: must be a number >= 1, got 0``), never as a
traceback from deep inside the library. Standard library only, and the tools import it before
anything heavy: ``--help`` and argument errors answer before torch, mmengine, numba and
onnxruntime load (seconds).

Tools in sub-folders put ``tools/`` on ``sys.path`` first (see ``tools/analysis/*.py``).
"""
import argparse
import json
import math
from typing import Callable, Dict, Optional, Tuple, Union

__all__ = ['number', 'positive_int', 'non_negative_int', 'positive_float', 'fraction',
           'parse_candidate']

Number = Union[int, float]


def number(low: Optional[Number] = None, high: Optional[Number] = None, *, integer: bool = False,
           low_open: bool = False, high_open: bool = False) -> Callable[[str], Number]:
    """An argparse type that parses a number and checks that it lies in a range.

    Args:
        low (int | float, optional): Smallest value allowed (None: no bound).
        high (int | float, optional): Largest value allowed (None: no bound).
        integer (bool): Parse an int (else a float; NaN and infinities are refused).
        low_open (bool): ``low`` itself is not allowed.
        high_open (bool): ``high`` itself is not allowed.

    Returns:
        Callable[[str], int | float]: Raises ``argparse.ArgumentTypeError`` with the bound and
        the value received.
    """
    kind = 'an integer' if integer else 'a number'
    bounds = []
    if low is not None:
        bounds.append(f'{">" if low_open else ">="} {low:g}')
    if high is not None:
        bounds.append(f'{"<" if high_open else "<="} {high:g}')
    wanted = f'{kind} {" and ".join(bounds)}'.strip()

    def parse(text: str) -> Number:
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'must be {wanted}, got {text!r}') from None
        if not integer and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f'must be {wanted}, got {text}')
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f'must be {wanted}, got {text}')
        return value

    parse.__name__ = 'int' if integer else 'float'  # argparse names the type in some messages
    return parse


#: An int >= 1 (counts, sizes, threads, iterations).
positive_int = number(1, integer=True)
#: An int >= 0 (seeds, optional counts).
non_negative_int = number(0, integer=True)
#: A float > 0.
positive_float = number(0, low_open=True)
#: A float in [0, 1].
fraction = number(0, 1)


def parse_candidate(spec: str) -> Tuple[str, Optional[str], Dict[str, object]]:
    """The benchmarks' ``--candidate NAME=PATH[:JSON]``: a model to measure, its checkpoint
    (empty: the package's default weights, None) and ``init_enhancer`` overrides from the JSON
    object, e.g. ``'no-denoiser=:{"denoiser": null}'``.

    Returns:
        tuple[str, str | None, dict]: The name, the checkpoint path and the overrides.
    """
    if '=' not in spec:
        raise argparse.ArgumentTypeError(f'--candidate wants NAME=PATH[:JSON], got {spec!r}')
    name, rest = spec.split('=', 1)
    path, _, extra = rest.partition(':')
    try:
        overrides = json.loads(extra) if extra else {}
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f'--candidate {name}: bad JSON {extra!r}: {exc}')
    if not isinstance(overrides, dict):
        raise argparse.ArgumentTypeError(f'--candidate {name}: {extra!r} is not a JSON object')
    return name, path or None, overrides
