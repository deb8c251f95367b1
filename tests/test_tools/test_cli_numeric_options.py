"""Every numeric option of every tool is checked while the command line is parsed: a bad value
is one line naming the option and the range, exit status 2, never a traceback; and --help
answers before the heavy imports."""
import importlib.util
import os.path as osp
import runpy
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO_ROOT

TOOLS = osp.join(REPO_ROOT, 'tools')

#: Well-formed values after the first of options that take several.
MORE_VALUES = {'--levels': ['10'], '--size': ['10'], '--max-level-rise': ['0.5', '0.7']}
# (tool, option, a value out of its range, other arguments the tool requires)
CASES = [
    ('enhance.py', '--scale-factor', '0', ['x.png', '-o', 'out']),
    ('enhance.py', '--night-level', '1.5', ['x.png', '-o', 'out']),
    ('enhance.py', '--max-level', '0', ['x.png', '-o', 'out']),
    ('enhance.py', '--max-level-rise', '1.5', ['x.png', '-o', 'out']),
    ('enhance.py', '--batch-size', '0', ['x.png', '-o', 'out']),
    ('enhance.py', '--crf', '-1', ['x.png', '-o', 'out']),
    ('enhance.py', '--temporal-frames', '0', ['x.png', '-o', 'out']),
    ('enhance.py', '--noise-sigma', '-2', ['x.png', '-o', 'out']),
    ('enhance.py', '--motion-threshold', '0', ['x.png', '-o', 'out']),
    ('benchmark.py', '--threads', '0', []),
    ('benchmark.py', '--repeats', '-3', []),
    ('benchmark.py', '--official-processes', '0', []),
    ('benchmark_video.py', '--threads', '0', []),
    ('benchmark_video.py', '--frames', '0', []),
    ('benchmark_video.py', '--repeats', '0', []),
    ('benchmark_video.py', '--noise-frames', '0', []),
    ('benchmark_video.py', '--skip', '-1', []),
    ('benchmark_video.py', '--trail-frames', '0', []),
    ('benchmark_video.py', '--zoom-rate', '0', []),
    ('analysis/choose_enhancer_settings.py', '--background-index', '-1', ['c.py', 'w.pth']),
    ('make_demo_input.py', '--exposure', '1.5', ['out']),
    ('make_demo_input.py', '--exposure', '0', ['out']),
    ('analysis/benchmark_train_step.py', '--batch', '0', []),
    ('analysis/benchmark_train_step.py', '--size', '0', []),
    ('analysis/benchmark_train_step.py', '--threads', '0', []),
    ('analysis/benchmark_train_step.py', '--steps', '0', []),
    ('analysis/benchmark_train_step.py', '--guide-depth', '7', []),
    ('analysis/benchmark_train_step.py', '--seed', '-1', []),
    ('analysis/compare_denoisers.py', '--strength', '0', []),
    ('analysis/compare_denoisers.py', '--threads', '0', []),
    ('analysis/compare_denoisers.py', '--repeats', '0', []),
    ('analysis/downstream_overhead.py', '--size', '0', []),
    ('analysis/downstream_overhead.py', '--scale-factors', '0.5', []),
    ('analysis/downstream_overhead.py', '--repeats', '0', []),
    ('analysis/downstream_overhead.py', '--warmup', '-1', []),
    ('analysis/downstream_overhead.py', '--threads', '0', []),
    ('analysis/evaluate_enhancer.py', '--threads', '0', []),
    ('analysis/tone_relation.py', '--scenes', '0', []),
    ('analysis/tone_relation.py', '--seed', '-1', []),
    ('analysis/tone_relation.py', '--threads', '0', []),
    ('analysis/evaluate_enhancer.py', '--repeats', '0', []),
    ('analysis/evaluate_enhancer.py', '--official-processes', '0', []),
    ('analysis/guide_ablation.py', '--seeds', '-1', []),
    ('analysis/guide_ablation.py', '--iters', '0', []),
    ('analysis/guide_ablation.py', '--semantic-weight', '-1', []),
    ('analysis/guide_ablation.py', '--detection-seed', '-1', []),
    ('analysis/dark_downstream_benchmark.py', '--seeds', '-1', []),
    ('analysis/dark_downstream_benchmark.py', '--jobs', '0', []),
    ('analysis/dark_downstream_benchmark.py', '--enhancer-scale', '0.5', []),
    ('analysis/dark_downstream_benchmark.py', '--num-train', '0', []),
    ('analysis/dark_downstream_benchmark.py', '--levels', '0', []),
    ('analysis/dark_downstream_benchmark.py', '--lr', '0', []),
    ('dataset_converters/darkface2coco.py', '--val-ratio', '1', ['imgs', 'labels', 'out']),
    ('dataset_converters/darkface2coco.py', '--seed', '-1', ['imgs', 'labels', 'out']),
    ('deploy/export_onnx.py', '--scale-factor', '0', ['-o', 'x.onnx']),
    ('deploy/export_onnx.py', '--opset', '3', ['-o', 'x.onnx']),
    ('deploy/export_onnx.py', '--tolerance', '0', ['-o', 'x.onnx']),
]


@pytest.mark.parametrize('tool,option,value,rest', CASES,
                         ids=[f'{c[0]}{c[1]}={c[2]}' for c in CASES])
def test_out_of_range_value_is_one_line(tool, option, value, rest, monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', [tool, *rest, option, value, *MORE_VALUES.get(option, [])])
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(SystemExit) as info:
        runpy.run_path(osp.join(TOOLS, tool), run_name='__main__')
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert 'Traceback' not in err
    last = err.strip().splitlines()[-1]
    assert f'error: argument {option}: must be' in last and value in last, last


def test_not_a_number_says_what_was_expected(monkeypatch, capsys):
    monkeypatch.setattr(sys, 'argv', ['enhance.py', 'x', '-o', 'y', '--batch-size', 'four'])
    with pytest.raises(SystemExit):
        runpy.run_path(osp.join(TOOLS, 'enhance.py'), run_name='__main__')
    assert "argument --batch-size: must be an integer >= 1, got 'four'" in capsys.readouterr().err


def load_cli_types():
    spec = importlib.util.spec_from_file_location('cli_types', osp.join(TOOLS, 'cli_types.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_number_bounds():
    import argparse
    cli = load_cli_types()
    assert cli.number(1)('12') == 12.0 and cli.positive_int('3') == 3
    assert cli.number(0, 1, high_open=True)('0') == 0.0
    for parse, bad in ((cli.number(1), '0.99'), (cli.number(0, 1, high_open=True), '1'),
                       (cli.positive_float, '0'), (cli.positive_int, '1.5'),
                       (cli.number(0), 'nan'), (cli.number(0), 'inf'),
                       (cli.fraction, '-0.1')):
        with pytest.raises(argparse.ArgumentTypeError, match='must be'):
            parse(bad)


def test_enhance_help_is_fast_in_a_fresh_process():
    """--help before torch, mmengine, numba and onnxruntime load (they take seconds)."""
    command = [sys.executable, osp.join(TOOLS, 'enhance.py'), '--help']
    subprocess.run(command, capture_output=True, check=True, timeout=60)  # warm the disk cache
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0 and '--scale-factor' in result.stdout
    assert elapsed < 1.5, f'--help took {elapsed:.2f} s'


def test_benchmark_help_speaks_plainly():
    result = subprocess.run([sys.executable, osp.join(TOOLS, 'benchmark.py'), '--help'],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    text = result.stdout
    for words in ('--quick', '--official-checkpoint', 'Epoch99.pth', 'minute',
                  'official, flushed', 'default path'):
        assert words in text, words
    for jargon in ('VmHWM', 'enhance_net_nopool', 'denormals flushed to zero ('):
        assert jargon not in text, jargon


def test_enhance_video_defaults_match_the_library():
    from mmlowlight.apis import video_io
    sys.path.insert(0, TOOLS)
    try:
        import enhance as enhance_tool
    finally:
        sys.path.remove(TOOLS)
    assert (enhance_tool.DEFAULT_CRF, enhance_tool.DEFAULT_PRESET) == (
        video_io.DEFAULT_CRF, video_io.DEFAULT_PRESET)
