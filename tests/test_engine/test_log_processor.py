"""SignificantDigitsLogProcessor: small losses no longer print as 0.0000 (issue 14.7)."""
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub
from mmengine.registry import LOG_PROCESSORS

from mmlowlight.engine import SignificantDigitsLogProcessor


def _runner(hub):
    return SimpleNamespace(message_hub=hub, iter=9, max_iters=100, _train_loop=object(),
                           epoch=0)


@pytest.mark.parametrize('hierarchy', [False, True])
def test_training_line(hierarchy):
    hub = MessageHub(f'log_processor_test_{hierarchy}')
    for name, value in [('loss', 0.2373), ('loss_spatial', 3.2154e-05), ('loss_smooth', 0.00012),
                        ('loss_color', 0.0), ('loss_exposure', 12.5), ('lr', 1e-4),
                        ('time', 0.5), ('data_time', 0.01)]:
        hub.update_scalar(f'train/{name}', value)
    hub.update_info('eta', 30)
    processor = LOG_PROCESSORS.build(dict(type='mmlowlight.SignificantDigitsLogProcessor',
                                          by_epoch=False, log_with_hierarchy=hierarchy))
    assert isinstance(processor, SignificantDigitsLogProcessor)
    tag, line = processor.get_log_after_iter(_runner(hub), 9, 'train')
    assert 'loss_spatial: 3.215e-05  ' in line and 'loss_smooth: 0.00012  ' in line
    assert 'loss: 0.2373  ' in line and 'loss_color: 0  ' in line
    assert 'loss_exposure: 12.5000' in line and 'lr: 1.0000e-04' in line
    assert 'time: 0.5000' in line and 'data_time: 0.0100' in line
    key = 'train/loss_spatial' if hierarchy else 'loss_spatial'
    assert tag[key] == pytest.approx(3.2154e-05)  # the backends get the numbers untouched
    # what mmengine's own processor prints
    plain = LOG_PROCESSORS.build(dict(type='LogProcessor', by_epoch=False))
    assert 'loss_spatial: 0.0000' in plain.get_log_after_iter(_runner(hub), 9, 'train')[1]


def test_format_value():
    processor = SignificantDigitsLogProcessor(num_digits=4)
    assert [processor.format_value(v) for v in (0.0, 1.5, 0.25, 0.012345, 3.2e-9)] == \
        ['0', '1.5000', '0.25', '0.01235', '3.2e-09']
    assert processor.format_value(float('nan')) == 'nan'
