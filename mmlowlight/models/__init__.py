from .enhancers import *  # noqa: F401,F403
