"""tools/benchmark.py at sizes that are not multiples of 12, quiet, every option explained."""
import json
import os
import os.path as osp
import platform
import re
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO_ROOT

sys.path.insert(0, osp.join(REPO_ROOT, 'tools'))
import benchmark  # noqa: E402


def test_any_size_side_by_side_and_quiet(capsys):
    threads = torch.get_num_threads()
    try:
        assert benchmark.main(['--sizes', '37x61', '25x13', '--repeats', '1', '--threads', '1',
                               '--skip-memory', '--skip-first-frame', '--official-processes', '1',
                               '--candidate', 'bare=:{"denoiser": null}']) == 0
    finally:  # main sets the process's thread count
        torch.set_num_threads(threads)
    captured = capsys.readouterr()
    out = captured.out
    for row in ('frame copy', 'official code', 'official, flushed', 'x flushed', 'fast, official',
                'default path', 'reference', 'fast vs reference: max', 'EFE on the',
                'EFE backend in use', '1 threads', 'fastest calls: official',
                'official code per process (medians; page faults per call; memory kept): '
                'as shipped'):
        assert row in out, row
    # The candidate: described, timed in the same rounds at every size, on the fast path.
    assert 'bare: scale_factor=12, fast CPU runtime' in out and '+ no denoiser [config]' in out
    assert len(re.findall(r'^  bare +\d', out, flags=re.M)) == 2 and '; bare ' in out
    assert '(official code on the 36x60 crop)' in out and '25x13' in out
    assert 'INFO' not in out + captured.err  # no weight-initialisation logs
    assert 'flicker' not in out
    assert len(out.splitlines()) < 40
    # The fast path agrees with the reference within one grey level at every size.
    assert all(int(level) <= 1 for level in re.findall(r'max (\d+) grey level', out))


@pytest.mark.parametrize('flush', [False, True])
def test_official_code_runs_in_a_process_of_its_own(flush):
    with benchmark.OfficialCodeProcess(50, 30, 1, flush, None) as official:
        assert official.shape == (24, 48)
        runs = [official.run() for _ in range(2)]
    assert official.process.returncode == 0
    assert all(seconds > 0 for seconds in runs)
    assert len(official.page_faults) == 2 and all(f >= 0 for f in official.page_faults)


@pytest.mark.parametrize('keep_memory', [True, False])
def test_official_process_keeps_its_memory_unless_told(keep_memory, monkeypatch):
    """The allocator settings reach the official code's process (glibc reads them there), a
    value the caller set wins, and --official-memory returned leaves the environment alone."""
    monkeypatch.setenv('MALLOC_TRIM_THRESHOLD_', '12345')
    monkeypatch.delenv('MALLOC_MMAP_THRESHOLD_', raising=False)
    seen = {}

    class Recorder(benchmark.subprocess.Popen):
        def __init__(self, command, **kwargs):
            seen['env'] = kwargs.get('env')
            super().__init__(command, **kwargs)

    monkeypatch.setattr(benchmark.subprocess, 'Popen', Recorder)
    with benchmark.OfficialCodeProcess(50, 30, 1, True, None, keep_memory) as official:
        official.run()
    if keep_memory:
        assert seen['env']['MALLOC_MMAP_THRESHOLD_'] == str(32 << 20)
        assert seen['env']['MALLOC_TRIM_THRESHOLD_'] == '12345'
    else:
        assert seen['env'] is None  # the caller's environment, as it is


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='glibc allocator settings')
def test_kept_memory_env_stops_page_faults_of_repeated_large_buffers():
    """With KEPT_MEMORY_ENV, a 25 MiB buffer freed and allocated again is not faulted in
    again (6,400 pages a time without it, where glibc hands the block back)."""
    code = ('import resource, numpy as np\n'
            'def touch():\n'
            '    a = np.empty(25 << 18, np.float32); a.fill(1); del a\n'
            'touch()\n'
            'f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n'
            'for _ in range(3): touch()\n'
            'print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)\n')
    env = dict(os.environ, **benchmark.KEPT_MEMORY_ENV)
    faults = int(subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                                text=True, check=True).stdout)
    assert faults < 100


def test_official_rows_pool_the_calls_of_fresh_processes():
    calls = []
    samples, per_process, crop = benchmark.official_process_times(
        {'official code': False, 'flushed': True, 'ours': lambda: calls.append(1)},
        50, 30, 1, None, repeats=2, processes=2)
    assert crop == (24, 48)
    # One median per process and official row; every process's calls in the pooled samples.
    assert [len(v) for v in per_process.values()] == [2, 2] and set(per_process) == {
        'official code', 'flushed'}
    assert all(v.seconds > 0 and v.page_faults >= 0 for values in per_process.values()
               for v in values)
    for name in ('official code', 'flushed', 'ours'):
        assert len(samples[name]) % 2 == 0 and len(samples[name]) >= 2 * 2
        assert all(seconds > 0 for seconds in samples[name])
    assert len(calls) > len(samples['ours'])  # also untimed calls before each timed one


@pytest.mark.parametrize('variant', ['official', 'fast'])
def test_memory_probe_reports_extra_memory(variant, capsys):
    benchmark.memory_probe(variant, 50, 30, 1, None)
    probe = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert probe['frame'] == 50 * 30 * 3 and probe['extra'] >= 0


def test_every_option_has_a_help_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(['--help'])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    options = re.findall(r'^  (--[a-z-]+)', help_text, flags=re.M)
    assert {'--official-checkpoint', '--threads', '--repeats', '--sizes', '--memory-size',
            '--skip-memory', '--first-frame-size', '--skip-first-frame'} <= set(options)
    for option in options:
        block = help_text.split(option, 1)[1].split('\n  --', 1)[0]
        assert len(block.split()) > 3, option  # more than the metavar
    assert 'default: None' not in help_text and 'probe' not in help_text


def test_bad_size_is_named(capsys):
    with pytest.raises(SystemExit):
        benchmark.main(['--sizes', '640by480'])
    assert "expected WIDTHxHEIGHT, got '640by480'" in capsys.readouterr().err


@pytest.mark.parametrize('spec, message', [('bare', 'wants NAME=PATH[:JSON]'),
                                           ('bare=:{denoiser}', 'bad JSON'),
                                           ('bare=:[1]', 'is not a JSON object')])
def test_bad_candidate_is_named(spec, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(['--candidate', spec])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_bad_official_checkpoint_is_one_line(tmp_path, capsys):
    bad = tmp_path / 'Epoch99.pth'
    bad.write_bytes(b'PK\x03\x04 truncated')
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(['--official-checkpoint', str(bad), '--sizes', '24x24', '--skip-memory',
                        '--skip-first-frame', '--repeats', '1'])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert str(bad) in err and 'Traceback' not in err and len(err.strip().splitlines()) == 1
