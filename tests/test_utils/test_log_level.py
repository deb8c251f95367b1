import logging

import pytest
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from mmlowlight.utils import mmengine_log_level


class _Tiny(BaseModule):

    def __init__(self):
        super().__init__(init_cfg=dict(type='Constant', layer='Conv2d', val=0.5))
        self.conv = nn.Conv2d(3, 3, 1)


def test_init_weights_is_quiet_inside_and_the_level_comes_back(capsys):
    logger = MMLogger.get_current_instance()
    before = logger.level
    with mmengine_log_level() as inside:
        assert inside is logger and logger.level == logging.WARNING
        _Tiny().init_weights()
        logger.warning('still shown')
    assert logger.level == before
    err = capsys.readouterr()
    text = err.out + err.err
    assert 'conv.weight' not in text  # the per-parameter INFO lines
    assert 'still shown' in text


def test_level_is_restored_after_an_exception():
    logger = MMLogger.get_current_instance()
    before = logger.level
    with pytest.raises(RuntimeError, match='boom'):
        with mmengine_log_level(logging.ERROR):
            raise RuntimeError('boom')
    assert logger.level == before
