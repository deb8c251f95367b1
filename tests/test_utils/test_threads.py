import threading
import time

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
    assert all(name == main or name.startswith('test-jobs') for _, name in results)
    assert run_jobs(job, [(5, )], 2, 'test-jobs') == [(10, main)]  # one job: no hand-off
    assert [name for _, name in run_jobs(job, [(1, ), (2, )], 1, 'test-jobs')] == [main] * 2


def test_run_jobs_raises_a_jobs_error():
    def job(value):
        if value == 2:
            raise ValueError('bad job 2')
        return value

    with pytest.raises(ValueError, match='bad job 2'):
        run_jobs(job, [(1, ), (2, ), (3, )], 2, 'test-jobs')


def test_run_jobs_shares_the_jobs_between_the_caller_and_the_helpers():
    """Each thread takes the next job when it is free: a slow job on one thread leaves the
    others to the rest."""
    main = threading.current_thread().name
    started = threading.Barrier(2, timeout=10)

    def job(index):
        if index < 2:  # the first two jobs run at once, on two threads
            started.wait()
        return threading.current_thread().name

    names = run_jobs(job, [(i, ) for i in range(6)], 2, 'test-share')
    assert main in names and any(name.startswith('test-share') for name in names)


def test_run_jobs_stops_taking_jobs_after_a_failure():
    done = []

    def job(index):
        if index == 0:
            raise RuntimeError('job 0 failed')
        time.sleep(0.002)
        done.append(index)

    with pytest.raises(RuntimeError, match='job 0 failed'):
        run_jobs(job, [(i, ) for i in range(200)], 2, 'test-stop')
    assert len(done) < 20  # the other thread finishes the job it holds, takes no new one


def test_run_jobs_initializes_the_helpers():
    local = threading.local()
    both = threading.Barrier(2, timeout=10)

    def job(index):
        if index < 2:
            both.wait()  # the first two jobs on two threads: the caller and a helper
        return threading.current_thread().name, getattr(local, 'value', None)

    results = run_jobs(job, [(i, ) for i in range(4)], 2, 'test-jobs-init',
                       initializer=lambda v: setattr(local, 'value', v), initargs=(3, ))
    helper_values = {value for name, value in results if name.startswith('test-jobs-init')}
    assert helper_values == {3}
