from .inference import DEFAULT_CHECKPOINT, enhance, extract_enhancer_state_dict, init_enhancer
from .runner import build_runner, configure_testing, configure_training, load_runner_config

__all__ = [
    'DEFAULT_CHECKPOINT', 'init_enhancer', 'enhance', 'extract_enhancer_state_dict',
    'build_runner', 'configure_testing', 'configure_training', 'load_runner_config'
]
