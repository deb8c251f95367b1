from .data_preprocessors import *  # noqa: F401,F403
from .denoisers import *  # noqa: F401,F403
from .enhancers import *  # noqa: F401,F403
from .guides import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .video_denoisers import *  # noqa: F401,F403
from .zero_shot import ZeroShotEnhancer  # noqa: F401
