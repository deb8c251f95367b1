"""Runner-side components: hooks, CPU distributed set-up."""
from .cpu_distributed import CPUDistributedDataParallel, setup_cpu_distributed
from .hooks import *  # noqa: F401,F403
