"""Check a requested torch device before using it, naming the devices that exist instead.

``model.to('cuda')`` on a CPU-only torch ends in ``AssertionError: Torch not compiled with CUDA
enabled``, and ``'cuda:3'`` on a one-GPU machine in an "invalid device ordinal" error deep in
CUDA; neither says what the user can ask for.
"""
from typing import List, Union

import torch

__all__ = ['DeviceNotAvailableError', 'available_devices', 'resolve_device']


class DeviceNotAvailableError(ValueError):
    """The requested device is no device name, or does not exist in this torch build or on
    this machine; the message lists the devices that do."""


def available_devices() -> List[str]:
    """The devices this process can use, e.g. ``['cpu', 'cuda:0', 'cuda:1']``."""
    devices = ['cpu']
    if torch.cuda.is_available():
        devices += [f'cuda:{i}' for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, 'mps', None)
    if mps is not None and mps.is_available():
        devices.append('mps')
    return devices


def _why_missing(kind: str) -> str:
    if kind == 'cuda':
        if torch.version.cuda is None:
            return f'this torch ({torch.__version__}) is built without CUDA'
        return 'no CUDA GPU is visible (driver, CUDA_VISIBLE_DEVICES?)'
    return f'this torch ({torch.__version__}) has no usable {kind} backend here'


def resolve_device(device: Union[str, torch.device]) -> torch.device:
    """Parse ``device`` and check that it exists.

    Args:
        device (str | torch.device): E.g. ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ``'mps'``.

    Returns:
        torch.device: The parsed device.

    Raises:
        DeviceNotAvailableError: ``device`` is no device name or does not exist here; the
            message lists those that do.
    """
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceNotAvailableError(
            f'{device!r} is not a device name (e.g. cpu, cuda, cuda:1); available here: '
            f'{", ".join(available_devices())}') from None
    if parsed.type == 'cpu':
        return parsed
    available = available_devices()
    if parsed.type == 'cuda' and torch.cuda.is_available():
        if parsed.index is None or parsed.index < torch.cuda.device_count():
            return parsed
        raise DeviceNotAvailableError(
            f'device {str(device)!r} does not exist: {torch.cuda.device_count()} CUDA GPU(s) '
            f'visible; available: {", ".join(available)}')
    if parsed.type == 'mps' and 'mps' in available:
        return parsed
    if parsed.type not in ('cuda', 'mps'):
        # Other backends (xpu, npu, ...) are left to torch, which knows their plugins.
        return parsed
    raise DeviceNotAvailableError(
        f'device {str(device)!r} is not available: {_why_missing(parsed.type)}; available: '
        f'{", ".join(available)}')
