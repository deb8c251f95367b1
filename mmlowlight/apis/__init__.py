from .file_batch import BatchReport, collect_tasks, enhance_files
from .image_io import DecodedImage, ImageReadError, decode_pil_image, encode_image, read_image
from .inference import (DEFAULT_CHECKPOINT, enhance, enhance_batch, extract_enhancer_state_dict,
                        init_enhancer)
from .model_choice import ENHANCER_CANDIDATES, candidate_config, choose_enhancer_settings
from .runner import (add_runner_arguments, build_runner, configure_testing, configure_training,
                     distributed_session, load_runner_config, parse_runner_arguments)
from .video import (NightLevelSmoother, VideoSummary, build_temporal_denoiser, enhance_video,
                    mean_frame_change)
from .video_io import VideoReadError, VideoWriteError

__all__ = [
    'DEFAULT_CHECKPOINT', 'init_enhancer', 'enhance', 'extract_enhancer_state_dict',
    'add_runner_arguments', 'parse_runner_arguments', 'build_runner', 'configure_testing',
    'configure_training', 'load_runner_config', 'distributed_session',
    'enhance_batch', 'enhance_files', 'collect_tasks', 'BatchReport', 'read_image',
    'encode_image', 'decode_pil_image', 'DecodedImage', 'ImageReadError', 'enhance_video',
    'VideoSummary', 'NightLevelSmoother',
    'mean_frame_change', 'build_temporal_denoiser', 'VideoReadError', 'VideoWriteError',
    'ENHANCER_CANDIDATES', 'candidate_config', 'choose_enhancer_settings'
]
