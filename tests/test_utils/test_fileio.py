import os

import pytest

from mmlowlight.utils import atomic_output, atomic_write_bytes, temporary_name


def test_write_then_rename(tmp_path):
    target = str(tmp_path / 'sub' / 'out.png')
    atomic_write_bytes(target, b'abc')
    assert open(target, 'rb').read() == b'abc'
    assert os.listdir(tmp_path / 'sub') == ['out.png']


def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = str(tmp_path / 'out.json')
    atomic_write_bytes(target, b'old')
    with pytest.raises(RuntimeError):
        with atomic_output(target) as temporary:
            open(temporary, 'wb').write(b'half')
            raise RuntimeError('crash mid-write')
    assert open(target, 'rb').read() == b'old'
    assert os.listdir(tmp_path) == ['out.json']


def test_stale_temporary_of_killed_run_is_removed(tmp_path):
    target = str(tmp_path / 'out.jpg')
    stale = temporary_name(target).replace(f'-{os.getpid()}', '-999999')
    open(stale, 'wb').write(b'partial')
    assert temporary_name(target).endswith('.jpg')  # keeps the extension for encoders
    atomic_write_bytes(target, b'new')
    assert sorted(os.listdir(tmp_path)) == ['out.jpg']
