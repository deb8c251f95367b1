"""Every way a checkpoint can fail to load: one line, naming the file and the problem (14.2).

Before, a truncated file ended in a bare ``OSError: [Errno 22] Invalid argument`` and a file that
is no checkpoint passed on torch's advice to re-run with ``weights_only=False``.
"""
import os
import pickle

import pytest
import torch

from mmlowlight.apis import init_enhancer
from mmlowlight.models.enhancers import SGZEnhancer, load_enhancer_weights
from mmlowlight.utils import (CheckpointError, CheckpointNotFoundError, DamagedCheckpointError,
                              EnhancerMismatchError, NoEnhancerWeightsError, NotACheckpointError,
                              UnsafeCheckpointError, load_checkpoint_file)


class _RunsCode:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def _good_bytes(tmp_path):
    path = tmp_path / 'good.pth'
    torch.save(dict(state_dict=SGZEnhancer().state_dict(), meta={}), str(path))
    return path.read_bytes()


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _legacy(tmp_path):
    path = str(tmp_path / 'legacy_full.pth')
    torch.save(SGZEnhancer().state_dict(), path, _use_new_zipfile_serialization=False)
    with open(path, 'rb') as f:
        data = f.read()
    return _write(tmp_path, 'legacy.pth', data[:len(data) // 2])


def _unsafe(tmp_path):
    path = str(tmp_path / 'unsafe.pth')
    torch.save({'state_dict': {}, 'x': _RunsCode()}, path)
    return path


def _zip(tmp_path):
    import zipfile
    path = str(tmp_path / 'archive.pth')
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('readme.txt', 'hello')
    return path


#: name -> (make the file, expected class, words the message must hold)
BAD_FILES = {
    'truncated-half': (lambda t: _write(t, 'half.pth', _good_bytes(t)[:20000]),
                       DamagedCheckpointError, 'is truncated'),
    'truncated-by-1': (lambda t: _write(t, 'short.pth', _good_bytes(t)[:-1]),
                       DamagedCheckpointError, 'is truncated'),
    'truncated-head': (lambda t: _write(t, 'head.pth', _good_bytes(t)[:100]),
                       DamagedCheckpointError, 'is truncated'),
    'truncated-legacy': (_legacy, DamagedCheckpointError, 'truncated or damaged'),
    'empty': (lambda t: _write(t, 'empty.pth', b''), NotACheckpointError, 'is empty'),
    'png': (lambda t: _write(t, 'photo.pth', b'\x89PNG\r\n\x1a\n' + bytes(200)),
            NotACheckpointError, 'not a PyTorch checkpoint: it looks like a PNG image'),
    'text': (lambda t: _write(t, 'notes.pth', b'just some text\n'), NotACheckpointError,
             'looks like a text file'),
    'html': (lambda t: _write(t, 'download.pth', b'<!DOCTYPE html><html>404</html>'),
             NotACheckpointError, 'an HTML page'),
    'pickle': (lambda t: _write(t, 'plain.pkl', pickle.dumps({'a': 1}, protocol=4)),
               NotACheckpointError, 'plain Python pickle'),
    'zip': (_zip, NotACheckpointError, 'zip archive but not a PyTorch checkpoint'),
    'unsafe': (_unsafe, UnsafeCheckpointError, 'holds a posix.system object'),
    'directory': (lambda t: str(t), NotACheckpointError, 'is a directory'),
}


def _check_message(error: CheckpointError, path: str, words: str) -> None:
    message = str(error)
    assert message.startswith(f'{path}: ') and words in message, message
    assert '\n' not in message
    # torch's advice for files of unknown origin must never reach the user
    assert 'weights_only` set to `False' not in message and 'Re-running' not in message
    assert 'weights_only=False' not in message


@pytest.mark.parametrize('kind', sorted(BAD_FILES))
def test_load_checkpoint_file(tmp_path, kind):
    make, error_class, words = BAD_FILES[kind]
    path = make(tmp_path)
    with pytest.raises(error_class) as info:
        load_checkpoint_file(path)
    _check_message(info.value, path, words)
    # torch's exception (and its advice) is not shown as the cause either
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


@pytest.mark.parametrize('kind', ['truncated-half', 'png', 'unsafe'])
def test_init_enhancer_and_load_enhancer_weights(tmp_path, kind):
    make, error_class, words = BAD_FILES[kind]
    path = make(tmp_path)
    with pytest.raises(error_class) as info:
        init_enhancer(checkpoint=path)
    _check_message(info.value, path, words)
    with pytest.raises(error_class):
        load_enhancer_weights(SGZEnhancer(), path)


def test_missing_file(tmp_path):
    path = str(tmp_path / 'nowhere.pth')
    with pytest.raises(CheckpointNotFoundError) as info:
        init_enhancer(checkpoint=path)
    assert str(info.value) == f'{path}: no such checkpoint file'
    assert isinstance(info.value, FileNotFoundError)


def test_no_enhancer_weights(tmp_path):
    path = str(tmp_path / 'detector.pth')
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(2)}), path)
    with pytest.raises(NoEnhancerWeightsError) as info:
        init_enhancer(checkpoint=path)
    _check_message(info.value, path, 'holds no enhancer weights')
    path = str(tmp_path / 'tensor.pth')
    torch.save(torch.zeros(3), path)
    with pytest.raises(NoEnhancerWeightsError, match='not a state dict'):
        load_enhancer_weights(SGZEnhancer(), path)


@pytest.mark.parametrize('source,model,words', [
    (dict(conv_type='conv'), dict(conv_type='dsc'), "conv_type='conv' (model: 'dsc')"),
    (dict(channels=16), dict(channels=32), 'channels=16 (model: 32)'),
    (dict(shared_factor=False, num_iterations=4), dict(shared_factor=True),
     'shared_factor=False (model: True)'),
])
def test_weights_of_another_architecture(tmp_path, source, model, words):
    path = str(tmp_path / 'other.pth')
    torch.save(SGZEnhancer(**source).state_dict(), path)
    with pytest.raises(EnhancerMismatchError) as info:
        load_enhancer_weights(SGZEnhancer(**model), path)
    _check_message(info.value, path, 'weights of another architecture: ')
    assert words in str(info.value)
    config = dict(model=dict(type='SGZEnhancer', **model))
    with pytest.raises(EnhancerMismatchError, match='weights of another architecture'):
        init_enhancer(config, checkpoint=path)
    # A config silent on the architecture takes the checkpoint's (the one rule).
    assert init_enhancer(dict(model=dict(type='SGZEnhancer')), checkpoint=path) is not None


def test_extra_tensors_named(tmp_path):
    path = str(tmp_path / 'extra.pth')
    state = dict(SGZEnhancer().state_dict())
    state['efe.extra.weight'] = torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(EnhancerMismatchError, match=r'it has 1 the model does not '
                       r'\(efe.extra.weight\)'):
        load_enhancer_weights(SGZEnhancer(), path)


def test_preprocessor_enhancer_checkpoint(tmp_path):
    pytest.importorskip('mmdet.models')
    from mmlowlight.registry import MODELS
    make, error_class, words = BAD_FILES['truncated-half']
    path = make(tmp_path)
    with pytest.raises(error_class) as info:
        MODELS.build(dict(type='mmlowlight.LowLightDetDataPreprocessor',
                          enhancer=dict(type='SGZEnhancer'), enhancer_checkpoint=path))
    _check_message(info.value, path, words)
