"""python -m mmlowlight.warmup: the first-image compilation paid once, at install time."""
import subprocess
import sys


def test_warmup_runs_and_reports():
    result = subprocess.run([sys.executable, '-m', 'mmlowlight.warmup'], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'kernels compiled and cached' in result.stdout
