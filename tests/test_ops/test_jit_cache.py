import os

from mmlowlight.ops.jit_cache import configure_numba_cache, user_cache_dir


def test_in_tree_cache_when_writable(monkeypatch, tmp_path):
    monkeypatch.delenv('NUMBA_CACHE_DIR', raising=False)
    assert configure_numba_cache(str(tmp_path), writable=lambda path: True) is None
    assert 'NUMBA_CACHE_DIR' not in os.environ


def test_read_only_install_falls_back_to_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv('NUMBA_CACHE_DIR', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    source = str(tmp_path / 'site-packages' / 'mmlowlight' / 'ops')
    chosen = configure_numba_cache(source, writable=lambda path: not path.startswith(source))
    assert chosen == user_cache_dir() == str(tmp_path / 'cache' / 'mmlowlight' / 'numba')
    assert os.environ['NUMBA_CACHE_DIR'] == chosen


def test_temporary_folder_when_home_is_read_only_too(monkeypatch, tmp_path):
    monkeypatch.delenv('NUMBA_CACHE_DIR', raising=False)
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    chosen = configure_numba_cache(str(tmp_path / 'ops'),
                                   writable=lambda path: 'mmlowlight-numba-' in path)
    assert 'mmlowlight-numba-' in chosen and os.environ['NUMBA_CACHE_DIR'] == chosen


def test_environment_setting_wins(monkeypatch, tmp_path):
    monkeypatch.setenv('NUMBA_CACHE_DIR', str(tmp_path))
    assert configure_numba_cache(str(tmp_path), writable=lambda path: False) is None
    assert os.environ['NUMBA_CACHE_DIR'] == str(tmp_path)


def test_real_writability_check(tmp_path):
    from mmlowlight.ops.jit_cache import _writable_dir
    assert _writable_dir(str(tmp_path / 'new' / 'dir'))
    blocker = tmp_path / 'file'
    blocker.write_text('')
    assert not _writable_dir(str(blocker / 'sub'))  # a file where a folder should be
