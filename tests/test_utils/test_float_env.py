import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from mmlowlight.ops.efe_runtime import onnx_available
from mmlowlight.utils import flushed_denormals, preserved_float_environment

DENORMAL = np.float32(1e-39)
FLUSHING = torch.set_flush_denormal(False)  # whether this CPU can flush at all
needs_flushing = pytest.mark.skipif(not FLUSHING, reason='the CPU cannot flush denormals')


def _keeps_denormals() -> bool:
    return bool((np.array([DENORMAL]) * np.float32(1.5))[0] != 0)


@needs_flushing
def test_flushed_denormals_flushes_inside_and_restores_after():
    assert _keeps_denormals()
    with flushed_denormals():
        assert not _keeps_denormals()
    assert _keeps_denormals()


@needs_flushing
def test_flushed_denormals_restores_after_an_exception():
    with pytest.raises(RuntimeError, match='inside'):
        with flushed_denormals():
            raise RuntimeError('inside')
    assert _keeps_denormals()


@needs_flushing
def test_preserved_environment_gives_back_the_callers_state():
    torch.set_flush_denormal(True)
    try:
        with preserved_float_environment():
            torch.set_flush_denormal(False)
            assert _keeps_denormals()
        assert not _keeps_denormals()  # the caller had flushing on: it stays on
    finally:
        torch.set_flush_denormal(False)
    with preserved_float_environment():
        torch.set_flush_denormal(True)
    assert _keeps_denormals()


@needs_flushing
def test_environment_is_per_thread():
    seen = []
    with flushed_denormals():
        worker = threading.Thread(target=lambda: seen.append(_keeps_denormals()))
        # A thread started here inherits flushing; the main thread's state is what is
        # restored, the worker's own is untouched by the block's end.
        worker.start()
        worker.join()
    assert seen == [False] and _keeps_denormals()


# onnxruntime's first session of a process switches flushing on in its thread for good: a fresh
# process, so that this session is the first.
_FIRST_SESSION = '''
import threading
import numpy as np
import torch
from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.ops import efe_forward
keeps = lambda: bool((np.array([np.float32(1e-39)]) * np.float32(1.5))[0] != 0)
assert keeps()
efe_forward(SGZEnhancer().eval().efe, np.random.rand(1, 3, 40, 60).astype(np.float32),
            backend='onnxruntime', threads=2)
seen = []
thread = threading.Thread(target=lambda: seen.append(keeps()))
thread.start(); thread.join()
print(keeps(), seen[0])
'''


@needs_flushing
@pytest.mark.skipif(not onnx_available(), reason='onnx/onnxruntime not installed')
def test_onnxruntime_efe_leaves_the_callers_float_environment_alone():
    result = subprocess.run([sys.executable, '-c', _FIRST_SESSION], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ['True', 'True']
