import subprocess
import sys


def test_import_does_not_pull_mmdet_or_mmseg():
    code = ('import sys, mmlowlight, mmlowlight.apis, mmlowlight.models; '
            'bad = sorted(m for m in sys.modules if m.split(".")[0] in ("mmdet", "mmseg")); '
            'assert not bad, bad; print("ok")')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'
