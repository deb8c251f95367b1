"""One line instead of a traceback for the errors a command-line user can fix.

A bad checkpoint, a device this machine lacks, or a training run that turned NaN are not bugs
of the tool: the user needs the file name and the problem, and a traceback only hides them.
"""
import contextlib
import os.path as osp
import sys
from typing import Iterator, Optional

from mmlowlight.engine.hooks import NonFiniteTrainingError
from mmlowlight.models.enhancers.pipeline_config import PipelineConfigError
from mmlowlight.utils import CheckpointError, DeviceNotAvailableError

__all__ = ['USER_ERRORS', 'exit_on_user_error']

#: Exceptions whose message says all a command-line user needs.
USER_ERRORS = (CheckpointError, DeviceNotAvailableError, NonFiniteTrainingError,
               PipelineConfigError)


@contextlib.contextmanager
def exit_on_user_error(prog: Optional[str] = None) -> Iterator[None]:
    """Turn :data:`USER_ERRORS` into ``<prog>: error: <message>`` on stderr and exit status 1.

    Args:
        prog (str, optional): Shown first; defaults to the script's file name.
    """
    try:
        yield
    except USER_ERRORS as exc:
        print(f'{prog or osp.basename(sys.argv[0])}: error: {exc}', file=sys.stderr)
        raise SystemExit(1) from None
