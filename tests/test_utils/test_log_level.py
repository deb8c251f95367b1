import io
import logging
import uuid

import pytest
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from mmlowlight.utils import mmengine_log_level


class _Tiny(BaseModule):

    def __init__(self):
        super().__init__(init_cfg=dict(type='Constant', layer='Conv2d', val=0.5))
        self.conv = nn.Conv2d(3, 3, 1)


@pytest.fixture
def current_logger():
    """A new current MMLogger at INFO (other tests leave theirs current), recorded in a
    buffer of its own."""
    logger = MMLogger.get_instance(f'test_log_level_{uuid.uuid4().hex}', log_level='INFO')
    assert MMLogger.get_current_instance() is logger
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger.addHandler(handler)
    yield logger, buffer
    logger.removeHandler(handler)


def test_init_weights_is_quiet_inside_and_the_level_comes_back(current_logger):
    logger, buffer = current_logger
    _Tiny().init_weights()  # outside: mmengine logs every parameter at INFO
    assert 'conv.weight' in buffer.getvalue()
    buffer.truncate(0)
    buffer.seek(0)
    before = logger.level
    with mmengine_log_level() as inside:
        assert inside is logger and logger.level == logging.WARNING
        _Tiny().init_weights()
        logger.warning('still shown')
    assert logger.level == before
    assert 'conv.weight' not in buffer.getvalue()
    assert 'still shown' in buffer.getvalue()


def test_level_is_restored_after_an_exception(current_logger):
    logger, _ = current_logger
    before = logger.level
    with pytest.raises(RuntimeError, match='boom'):
        with mmengine_log_level(logging.ERROR):
            raise RuntimeError('boom')
    assert logger.level == before
