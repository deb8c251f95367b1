from .checkpoint import load_checkpoint_file, register_checkpoint_loader
from .fileio import atomic_output, atomic_write_bytes, temporary_name, write_json_atomic
from .image import tensor_to_uint8_image
from .setup_env import register_all_modules

__all__ = [
    'atomic_output', 'atomic_write_bytes', 'temporary_name', 'write_json_atomic',
    'load_checkpoint_file', 'register_checkpoint_loader', 'register_all_modules',
    'tensor_to_uint8_image'
]
