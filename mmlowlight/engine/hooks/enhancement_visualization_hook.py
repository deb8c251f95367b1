"""Writing input | enhanced | factor-map panels during validation and testing."""
import os.path as osp
from typing import Any, Mapping, Optional, Sequence

import mmcv
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from mmlowlight.registry import HOOKS
from mmlowlight.utils import tensor_to_uint8_image

__all__ = ['EnhancementVisualizationHook', 'factor_map_to_image', 'make_panel']

_REQUIRED_FIELDS = ('input_img', 'pred_img', 'factor_map')


def _field(sample: Any, key: str) -> Any:
    return sample.get(key) if isinstance(sample, Mapping) else getattr(sample, key, None)


def factor_map_to_image(factor: torch.Tensor, height: int, width: int) -> np.ndarray:
    """Render an enhancement-factor map as an RGB uint8 image of size (height, width).

    The map (C, h, w) in [-1, 1] is shown per colour channel as ``(r + 1) / 2``: mid-grey means
    no change, darker means brightening (the curve ``x + r (x² - x)`` brightens for r < 0).
    Maps with one set of 3 channels per curve step (C = 3k, Zero-DCE) are averaged over steps.

    Args:
        factor (Tensor): (C, h, w), C a multiple of 3 (or 1), values in [-1, 1].
        height (int): Output height.
        width (int): Output width.

    Returns:
        np.ndarray: (height, width, 3) uint8 RGB.
    """
    if factor.dim() != 3 or not (factor.shape[0] == 1 or factor.shape[0] % 3 == 0):
        raise ValueError(f'factor map must be (C, H, W) with C = 1 or a multiple of 3, got '
                         f'shape {tuple(factor.shape)}')
    factor = factor.detach().float()
    factor = factor.expand(3, -1, -1) if factor.shape[0] == 1 else \
        factor.reshape(-1, 3, *factor.shape[-2:]).mean(dim=0)
    img = tensor_to_uint8_image((factor + 1) / 2)
    if img.shape[:2] != (height, width):
        img = mmcv.imresize(img, (width, height), interpolation='nearest')
    return img


def make_panel(sample: Any) -> np.ndarray:
    """Concatenate input | enhanced | factor map of one prediction side by side (RGB uint8).

    Args:
        sample: A prediction (``BaseDataElement`` or dict) with ``input_img`` and ``pred_img``
            ((3, H, W) RGB in [0, 1]) and ``factor_map`` ((C, H', W') in [-1, 1]).
    """
    missing = [k for k in _REQUIRED_FIELDS if _field(sample, k) is None]
    if missing:
        raise ValueError(f'EnhancementVisualizationHook needs {", ".join(_REQUIRED_FIELDS)} in '
                         f'the predictions (ZeroShotEnhancer predict mode); missing {missing}')
    inputs = tensor_to_uint8_image(_field(sample, 'input_img'))
    enhanced = tensor_to_uint8_image(_field(sample, 'pred_img'))
    factor = factor_map_to_image(_field(sample, 'factor_map'), *enhanced.shape[:2])
    if inputs.shape != enhanced.shape:
        inputs = mmcv.imresize(inputs, enhanced.shape[1::-1])
    return np.concatenate([inputs, enhanced, factor], axis=1)


@HOOKS.register_module()
class EnhancementVisualizationHook(Hook):
    """Send input | enhanced | factor-map panels to the visualizer's backends.

    Every ``interval``-th validation or test iteration, the first image of the batch becomes one
    panel, recorded with :meth:`mmengine.visualization.Visualizer.add_image` under the name
    ``'{val|test}_{image stem}'`` and, as step, the current training iteration (validation) or 0
    (test). ``LocalVisBackend`` writes
    ``<work_dir>/<timestamp>/vis_data/vis_image/<name>_<step>.png``.

    Args:
        draw (bool): Whether to record panels at all. Defaults to True.
        interval (int): Record every ``interval``-th val/test iteration. Defaults to 1.
    """

    priority = 'NORMAL'

    def __init__(self, draw: bool = True, interval: int = 1) -> None:
        if not (isinstance(interval, int) and interval >= 1):
            raise ValueError(f'interval must be a positive int, got {interval!r}')
        self.draw = draw
        self.interval = interval

    def _record(self, runner, mode: str, batch_idx: int, outputs: Optional[Sequence]) -> None:
        if not self.draw or not outputs or batch_idx % self.interval:
            return
        sample = outputs[0]
        path = _field(sample, 'img_path') or f'{batch_idx:06d}'
        name = f'{mode}_{osp.splitext(osp.basename(path))[0]}'
        # The training iteration is the step of validation panels. A test run has no training
        # loop (reading ``runner.iter`` there would build one, train data included): step 0.
        step = runner.iter if mode == 'val' else 0
        Visualizer.get_current_instance().add_image(name, make_panel(sample), step=step)

    def after_val_iter(self, runner, batch_idx: int, data_batch: Any = None,
                       outputs: Optional[Sequence] = None) -> None:
        self._record(runner, 'val', batch_idx, outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch: Any = None,
                        outputs: Optional[Sequence] = None) -> None:
        self._record(runner, 'test', batch_idx, outputs)
