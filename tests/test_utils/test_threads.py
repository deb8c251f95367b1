import threading

from mmlowlight.utils import worker_pool


def test_one_pool_per_name_and_size():
    pool = worker_pool(2, 'test-pool')
    assert worker_pool(2, 'test-pool') is pool
    assert worker_pool(1, 'test-pool') is not pool
    assert worker_pool(2, 'test-other') is not pool
    names = {pool.submit(lambda: threading.current_thread().name).result() for _ in range(4)}
    assert all(name.startswith('test-pool') for name in names)


def test_initializer_runs_in_each_worker():
    local = threading.local()

    def mark(value):
        local.value = value

    pool = worker_pool(1, 'test-init', initializer=mark, initargs=(7, ))
    assert pool.submit(lambda: local.value).result() == 7
