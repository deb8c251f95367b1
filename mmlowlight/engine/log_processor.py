"""mmengine's LogProcessor, printing small values with significant digits.

mmengine formats every logged scalar with a fixed number of decimals (``num_digits=4``), so a
loss of 3.2e-05 (SGZ's spatial and smoothness terms, weighted, are of that order) prints as
``0.0000`` and reads as a loss that does nothing. Raising ``num_digits`` would pad every other
value with noise digits instead.
"""
import math
import re
from typing import Tuple

from mmengine.runner import LogProcessor

from mmlowlight.registry import LOG_PROCESSORS

__all__ = ['SignificantDigitsLogProcessor']


@LOG_PROCESSORS.register_module()
class SignificantDigitsLogProcessor(LogProcessor):
    """A ``LogProcessor`` that prints values below 1 with ``num_digits`` significant digits.

    ``loss_smooth: 3.215e-05`` instead of ``loss_smooth: 0.0000``; an exact zero (e.g. a
    one-sided loss with nothing to correct) prints as ``0``, so that ``0.0000`` never appears;
    values of 1 and more, learning rates and times print as mmengine prints them. The scalars
    handed to the visualizer backends are untouched. Used by
    ``configs/_base_/default_runtime.py``; other configs write
    ``log_processor=dict(type='mmlowlight.SignificantDigitsLogProcessor', ...)``.

    Args:
        **kwargs: Those of ``mmengine.runner.LogProcessor`` (``window_size``, ``by_epoch``,
            ``custom_cfg``, ``num_digits``, ``log_with_hierarchy``, ``mean_pattern``).
    """

    def format_value(self, value: float) -> str:
        """``value`` as this processor prints it."""
        if value == 0:
            return '0'
        if abs(value) >= 1 or not math.isfinite(value):
            return f'{value:.{self.num_digits}f}'
        return f'{value:.{self.num_digits}g}'

    def _reformat(self, log_str: str, tag: dict, mode: str) -> str:
        # mmengine writes each scalar as '<name>: <value:.{num_digits}f>'; names in `tag` may
        # carry the '<mode>/' prefix that the line leaves out (log_with_hierarchy=True).
        for key, value in tag.items():
            short = key[len(mode) + 1:] if key.startswith(f'{mode}/') else key
            if not isinstance(value, float) or short in ('time', 'data_time'):
                continue
            for name in {key, short}:
                fixed = f'{name}: {value:.{self.num_digits}f}'
                log_str = re.sub(rf'(?<![\w/.]){re.escape(fixed)}(?!\d)',
                                 f'{name}: {self.format_value(value)}', log_str)
        return log_str

    def get_log_after_iter(self, runner, batch_idx: int, mode: str) -> Tuple[dict, str]:
        """See ``LogProcessor.get_log_after_iter``."""
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        return tag, self._reformat(log_str, tag, mode)

    def get_log_after_epoch(self, runner, batch_idx: int, mode: str,
                            with_non_scalar: bool = False) -> Tuple[dict, str]:
        """See ``LogProcessor.get_log_after_epoch``."""
        tag, log_str = super().get_log_after_epoch(runner, batch_idx, mode, with_non_scalar)
        return tag, self._reformat(log_str, tag, mode)
