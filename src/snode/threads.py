"""How many threads the sweeps run on by default: the CPUs this process may use, less those
that other processes keep busy.

OpenMP's threads wait for each other by spinning, so a team larger than the cores left idle
by other processes loses much of its time to them (a training run beside one busy process on
2 cores took 3 times as long as alone, two runs at once 4 times; docs/decisions.md). The
default is measured, not fixed: from the machine's CPU time (Linux's /proc/stat) less this
process's own over the last half second, the CPUs the other processes use are left to them
(at least one thread is always used); before there is such an interval, the processes
running at that instant count. Where ``OMP_NUM_THREADS`` is set (as joblib sets it in the
workers of scikit-learn's ``n_jobs``), it caps the default; sweeps that run at once on
several Python threads of one process share it (:func:`sweeping`). An explicit ``n_threads`` is used
as it is. The results do not depend on the number of threads.
"""
import contextlib
import os
import threading
import time

__all__ = ["available_cpus", "default_threads", "omp_limit", "sweeping", "LoadMeter"]

#: Seconds between two measurements of the other processes' load.
INTERVAL = 0.5


def available_cpus():
    """The CPUs this process may run on (its affinity mask; all CPUs where there is none)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _read_stat():
    """(busy CPU seconds of the whole machine, runnable tasks now) from /proc/stat, or None."""
    try:
        with open("/proc/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    busy = running = None
    for line in text.splitlines():
        if line.startswith("cpu "):
            v = [int(x) for x in line.split()[1:9]]
            # user nice system idle iowait irq softirq steal: all but idle and iowait
            busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / _HZ
        elif line.startswith("procs_running"):
            running = int(line.split()[1])
    return None if busy is None or running is None else (busy, running)


try:
    _HZ = float(os.sysconf("SC_CLK_TCK"))
except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
    _HZ = 100.0


class LoadMeter:
    """The threads to use now: :func:`available_cpus` less the CPUs other processes keep
    busy, measured at most every `interval` seconds.

    Parameters
    ----------
    read : callable
        ``read() -> (busy seconds of the machine, runnable tasks) or None``; default the
        machine's /proc/stat.
    own : callable
        ``own() -> CPU seconds of this process`` (all its threads).
    clock : callable
        ``clock() -> seconds``, monotonic.
    cpus, total : int, optional
        The CPUs this process may use and the machine's CPUs (default: measured).
    interval : float
    """

    def __init__(self, read=_read_stat, own=time.process_time, clock=time.monotonic,
                 cpus=None, total=None, interval=INTERVAL):
        self._read, self._own, self._clock = read, own, clock
        self.cpus = available_cpus() if cpus is None else cpus
        self.total = max(self.cpus, (os.cpu_count() or self.cpus) if total is None else total)
        self.interval = interval
        self._last = None  # (time, machine busy seconds, own seconds)
        self._threads = self.cpus
        self._lock = threading.Lock()

    def threads(self):
        """The threads to use now (at least 1, at most the CPUs this process may use)."""
        now = self._clock()
        last = self._last
        if last is not None and now - last[0] < self.interval:
            return self._threads
        with self._lock:
            stat = self._read()
            if stat is None:  # (no /proc/stat: every CPU this process may use)
                self._threads = self.cpus
                return self._threads
            busy, running = stat
            own = self._own()
            if last is None:  # the processes running now, this one's thread among them
                others = max(0.0, running - 1.0)
            else:
                elapsed = now - last[0]
                others = max(0.0, (busy - last[1]) - (own - last[2])) / max(elapsed, 1e-9)
            # what the others use beyond the CPUs this process may not run on is taken from
            # this process's
            mine = max(0.0, others - (self.total - self.cpus))
            self._threads = max(1, min(self.cpus, int(round(self.cpus - mine))))
            self._last = (now, busy, own)
            return self._threads


_METER = None


def omp_limit(environ=None):
    """The thread limit of the environment's ``OMP_NUM_THREADS`` (its first entry, the
    outermost level), or None where it is unset or not a positive integer. Process-parallel
    tools set it in their workers so that n workers share the cores: joblib's loky backend
    (scikit-learn's ``n_jobs``) sets it to cpu_count // n_jobs."""
    text = (os.environ if environ is None else environ).get("OMP_NUM_THREADS", "")
    try:
        n = int(text.split(",")[0].strip())
    except ValueError:
        return None
    return n if n >= 1 else None


def default_threads():
    """The threads the sweeps run on when none are given (see the module's docstring), at
    most ``OMP_NUM_THREADS`` where it is set (:func:`omp_limit`)."""
    global _METER
    if _METER is None:
        _METER = LoadMeter()
    limit = omp_limit()
    n = _METER.threads()
    return n if limit is None else min(n, limit)


_ACTIVE = 0
_ACTIVE_LOCK = threading.Lock()


@contextlib.contextmanager
def sweeping():
    """Count a sweep among this process's concurrent ones while it runs; yields how many run
    now, this one included. Python threads of one process that sweep at once (joblib's
    threading backend, Optuna's ``n_jobs``, a user's thread pool) then share the default
    threads instead of each taking them all: the load meter sees the other processes, not
    this process's other threads."""
    global _ACTIVE
    with _ACTIVE_LOCK:
        _ACTIVE += 1
        count = _ACTIVE
    try:
        yield count
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE -= 1
