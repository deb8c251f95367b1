import threading

import pytest

from mmlowlight.utils import run_jobs, worker_pool


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


def test_run_jobs_in_order_on_the_pool_and_inline():
    main = threading.current_thread().name

    def job(value):
        return value * 2, threading.current_thread().name

    results = run_jobs(job, [(1, ), (2, ), (3, )], 2, 'test-jobs')
    assert [value for value, _ in results] == [2, 4, 6]
    assert all(name.startswith('test-jobs') for _, name in results)
    assert run_jobs(job, [(5, )], 2, 'test-jobs') == [(10, main)]  # one job: no hand-off
    assert [name for _, name in run_jobs(job, [(1, ), (2, )], 1, 'test-jobs')] == [main] * 2


def test_run_jobs_raises_a_jobs_error():
    def job(value):
        if value == 2:
            raise ValueError('bad job 2')
        return value

    with pytest.raises(ValueError, match='bad job 2'):
        run_jobs(job, [(1, ), (2, ), (3, )], 2, 'test-jobs')
