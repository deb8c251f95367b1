"""Runner-side components: hooks, log processor, CPU distributed set-up."""
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .hooks import *  # noqa: F401,F403
from .log_processor import SignificantDigitsLogProcessor  # noqa: F401

__all__ = ['CPUDistributedDataParallel', 'setup_cpu_distributed', 'SignificantDigitsLogProcessor']
