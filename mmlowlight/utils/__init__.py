from .checkpoint import (CheckpointError, CheckpointNotFoundError, DamagedCheckpointError,
                         EnhancerMismatchError, NoEnhancerWeightsError, NotACheckpointError,
                         UnsafeCheckpointError, load_checkpoint_file, register_checkpoint_loader)
from .device import DeviceNotAvailableError, available_devices, resolve_device
from .fileio import atomic_output, atomic_write_bytes, temporary_name, write_json_atomic
from .float_env import flushed_denormals, preserved_float_environment
from .image import tensor_to_uint8_image
from .log_level import mmengine_log_level
from .memory import release_free_memory
from .setup_env import register_all_modules
from .threads import run_jobs, worker_pool

__all__ = [
    'atomic_output', 'atomic_write_bytes', 'temporary_name', 'write_json_atomic',
    'load_checkpoint_file', 'register_checkpoint_loader', 'CheckpointError',
    'CheckpointNotFoundError', 'NotACheckpointError', 'DamagedCheckpointError',
    'UnsafeCheckpointError', 'NoEnhancerWeightsError', 'EnhancerMismatchError',
    'register_all_modules', 'tensor_to_uint8_image', 'DeviceNotAvailableError',
    'available_devices', 'resolve_device', 'worker_pool', 'run_jobs', 'release_free_memory',
    'flushed_denormals', 'preserved_float_environment', 'mmengine_log_level'
]
