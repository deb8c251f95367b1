from .checkpoint import (DEFAULT_CHECKPOINT, extract_enhancer_state_dict, load_enhancer_state_dict,
                         load_enhancer_weights)
from .checkpoint_args import (OFFICIAL_SCALE_FACTOR, enhancer_args_from_checkpoint,
                              enhancer_config_from_checkpoint)
from .exposure_control import CurveExposureControl
from .official import convert_official_state_dict, infer_enhancer_args, is_official_state_dict
from .sgz import DepthwiseSeparableConv, FactorExtractor, SGZEnhancer, recurrent_enhance

__all__ = [
    'SGZEnhancer', 'CurveExposureControl', 'FactorExtractor', 'DepthwiseSeparableConv',
    'recurrent_enhance', 'convert_official_state_dict', 'is_official_state_dict',
    'infer_enhancer_args', 'DEFAULT_CHECKPOINT', 'extract_enhancer_state_dict',
    'load_enhancer_weights', 'load_enhancer_state_dict', 'OFFICIAL_SCALE_FACTOR',
    'enhancer_args_from_checkpoint', 'enhancer_config_from_checkpoint'
]
