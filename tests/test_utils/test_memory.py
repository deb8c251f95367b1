import platform

import numpy as np

from mmlowlight.utils import release_free_memory


def test_release_free_memory_after_large_frees():
    blocks = [np.ones(1 << 20, np.uint8) for _ in range(8)]  # 8 MiB, then freed
    del blocks
    released = release_free_memory()
    assert isinstance(released, bool)
    if platform.system() == 'Linux' and platform.libc_ver()[0] == 'glibc':
        assert released
    assert release_free_memory() == released  # idempotent, cached lookup
