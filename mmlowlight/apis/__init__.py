from .inference import DEFAULT_CHECKPOINT, enhance, extract_enhancer_state_dict, init_enhancer

__all__ = ['DEFAULT_CHECKPOINT', 'init_enhancer', 'enhance', 'extract_enhancer_state_dict']
