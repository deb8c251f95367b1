"""Enhancement metrics (registered in ``mmlowlight.registry.METRICS``)."""
from .metrics import *  # noqa: F401,F403
