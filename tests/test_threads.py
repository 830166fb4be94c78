"""The default number of threads: the CPUs this process may use less those other processes
keep busy (snode.threads), measured with a fake machine."""
import pytest

import snode
from snode import threads
from snode._validate import check_threads


class FakeMachine:
    """A clock, the machine's busy CPU seconds and runnable tasks, and this process's CPU time,
    all set by the test."""

    def __init__(self, running=1):
        self.t = 0.0
        self.busy = 0.0
        self.own_s = 0.0
        self.running = running
        self.reads = 0

    def read(self):
        self.reads += 1
        return self.busy, self.running

    def own(self):
        return self.own_s

    def clock(self):
        return self.t

    def advance(self, dt, others, mine):
        """`dt` seconds pass with `others` CPUs busy in other processes, `mine` in this one."""
        self.t += dt
        self.busy += (others + mine) * dt
        self.own_s += mine * dt


def meter(m, cpus=2, total=2):
    return threads.LoadMeter(read=m.read, own=m.own, clock=m.clock, cpus=cpus, total=total)


def test_first_call_counts_the_processes_running_now():
    assert meter(FakeMachine(running=1)).threads() == 2      # only this process
    assert meter(FakeMachine(running=2)).threads() == 1      # one other busy task
    assert meter(FakeMachine(running=9)).threads() == 1      # never fewer than one
    assert meter(FakeMachine(running=3), cpus=8, total=8).threads() == 6


def test_measured_load_of_other_processes():
    m = FakeMachine()
    lm = meter(m)
    assert lm.threads() == 2
    m.advance(1.0, others=1.0, mine=1.0)      # one other process keeps one CPU busy
    assert lm.threads() == 1
    m.advance(1.0, others=0.0, mine=2.0)      # it ended: this process's own use is not load
    assert lm.threads() == 2
    m.advance(1.0, others=0.3, mine=1.7)      # a light load rounds away
    assert lm.threads() == 2
    m.advance(1.0, others=0.7, mine=1.3)
    assert lm.threads() == 1


def test_measurements_are_at_most_every_interval():
    m = FakeMachine()
    lm = meter(m)
    lm.threads()
    m.advance(0.1, others=2.0, mine=0.0)
    assert lm.threads() == 2 and m.reads == 1          # within the interval: the last answer
    m.advance(threads.INTERVAL, others=2.0, mine=0.0)
    assert lm.threads() == 1 and m.reads == 2


def test_load_outside_this_process_affinity_is_not_counted():
    # 2 of the machine's 4 CPUs are this process's; 2 CPUs busy elsewhere may be the other two
    m = FakeMachine()
    lm = meter(m, cpus=2, total=4)
    lm.threads()
    m.advance(1.0, others=2.0, mine=2.0)
    assert lm.threads() == 2
    m.advance(1.0, others=3.0, mine=1.0)
    assert lm.threads() == 1


def test_no_proc_stat_gives_every_cpu():
    lm = threads.LoadMeter(read=lambda: None, cpus=3, total=3)
    assert lm.threads() == 3


def test_read_stat_on_this_machine():
    stat = threads._read_stat()
    if stat is None:
        pytest.skip("no /proc/stat here")
    busy, running = stat
    assert busy > 0 and running >= 1


def test_default_and_explicit_threads():
    n = check_threads(None)
    assert 1 <= n <= threads.available_cpus()
    assert check_threads(3) == 3                # an explicit number is used as it is
    net = snode.SNODE(2, 3, seed=0)
    assert net.n_threads is None and 1 <= net.threads <= threads.available_cpus()
    net.n_threads = 5
    assert net.threads == 5


def test_omp_num_threads_caps_the_default(monkeypatch):
    # joblib's loky workers (scikit-learn's n_jobs) set OMP_NUM_THREADS = cpus // n_jobs:
    # the default must not take more, or n workers oversubscribe the cores
    assert threads.omp_limit({"OMP_NUM_THREADS": "3"}) == 3
    assert threads.omp_limit({"OMP_NUM_THREADS": "2,1"}) == 2  # (nested: the outer level)
    for bad in ({}, {"OMP_NUM_THREADS": ""}, {"OMP_NUM_THREADS": "0"},
                {"OMP_NUM_THREADS": "many"}):
        assert threads.omp_limit(bad) is None
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.default_threads() == 1
    assert snode.SNODE(width=2, n_steps=2).threads == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads.default_threads() >= 1


def test_sweeps_on_several_python_threads_share_the_default_threads(monkeypatch):
    # each of k concurrent sweeps of one process takes the default // k threads (the load
    # meter does not see this process's own threads); the results do not change
    import concurrent.futures
    import threading as _threading

    import numpy as np

    from snode import model as model_module

    monkeypatch.setattr(model_module, "check_threads", lambda n: 4 if n is None else n)
    net = snode.SNODE(width=4, n_steps=5, seed=0)
    with threads.sweeping() as k, net._team() as t:
        assert (k, t) == (1, 2)  # (this sweep and one already running: 4 // 2)
    with net._team() as t:
        assert t == 4
    net.n_threads = 3
    with threads.sweeping(), net._team() as t:
        assert t == 3  # (an explicit n_threads is used as it is)
    net.n_threads = None
    X = np.random.default_rng(0).normal(size=(300, 4))
    ref = net.forward(X)
    barrier = _threading.Barrier(3)

    def run(_):
        barrier.wait()
        return net.forward(X)

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        outs = list(pool.map(run, range(3)))
    assert all(np.array_equal(out, ref) for out in outs)
