"""Quieter mmengine logging for a block of code."""
import logging
from contextlib import contextmanager
from typing import Iterator

from mmengine.logging import MMLogger

__all__ = ['mmengine_log_level']


@contextmanager
def mmengine_log_level(level: int = logging.WARNING) -> Iterator[MMLogger]:
    """Raise mmengine's current logger to ``level`` inside the block, then restore it.

    Outside a Runner, ``BaseModule.init_weights`` logs every parameter's initialisation at INFO
    to the console (hundreds of lines for a pretrained backbone); command-line tools wrap such
    calls in this.

    Args:
        level (int): The lowest level that still gets through. Defaults to ``logging.WARNING``.

    Yields:
        MMLogger: The current logger.
    """
    logger = MMLogger.get_current_instance()
    previous = logger.level
    logger.setLevel(level)
    try:
        yield logger
    finally:
        logger.setLevel(previous)
