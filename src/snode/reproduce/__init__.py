"""The reproduction report: ``snode reproduce [--quick] [--out DIR] [--mnist DIR]``.

Runs the method's experiments end to end and writes ``DIR/report.md``, PNG figures and
``DIR/report.json`` (every number, the seeds, the versions and the timings):

1. teacher: reconstructing a known network (NCG with the Sobolev metric and with the L2
   metric, gradient descent, Adam), cost against iterations and wall time, the weights over
   depth beside the teacher's;
2. spirals and circles: NCG against gradient descent with momentum and Adam on the same
   network and budget, and scikit-learn's MLPClassifier when installed; cost curves and
   decision regions;
3. the Sobolev against the L2 metric: the weights over depth;
4. the sensitivity problem: the linearisation's error against the perturbation size, and the
   linearised output uncertainty against Monte Carlo over noise levels;
5. robustness on digits (scikit-learn's; and MNIST 14 x 14 in the authors' configuration with
   ``--mnist``): DeepFool's minimal perturbations and the accuracy against epsilon for the
   NCG-trained sNODE and a ResNet of the same shape (explicit Euler) trained by SGD and by
   Adam, with the check for masked gradients.

Where the method loses, the report says so. ``--quick`` runs every section small (about a
10 s on 2 cores without MNIST); the full run is larger (see ``SIZES``).

Rooms: :mod:`.experiments` (what each section runs and measures), :mod:`.report` (the text,
tables, figures and files).
"""
import os
import platform
import sys
import time
import warnings

import numpy as np

from .._validate import check_int
from .._version import __version__
from ..exceptions import LineSearchWarning
from . import experiments, report
from .experiments import NOISE_PROBES, NOISE_SAMPLES, SIZES  # noqa: F401

__all__ = ["run", "SIZES"]


def _sections(rep, size, threads, seed, mnist):
    """Every experiment, each reported as it ends."""
    rep.section("1. Teacher: reconstructing a known network")
    report.teacher(rep, *experiments.teacher(size, threads, seed))
    rep.section("2. Spirals and circles: NCG against gradient methods and an MLP")
    results, trained = experiments.synthetic(size, threads, seed)
    report.synthetic(rep, results, trained)
    est, Xtr, ytr = trained["spirals"][:3]  # (NCG's default: the hybrid gradient)
    rep.section("3. The metric in depth: the Sobolev, the hybrid and the L2 gradient")
    numbers, runs = experiments.metric(est, Xtr, ytr, size, threads, seed)
    report.metric(rep, numbers, runs, est)
    rep.section("4. The sensitivity problem: linearisation error and uncertainty")
    report.sensitivity(rep, *experiments.sensitivity(est, Xtr, size, seed))
    rep.section("5. Robustness on digits")
    digits = experiments.digits(size, threads, seed)
    if digits is None:
        rep.text("Skipped: scikit-learn is not installed (`pip install scikit-learn`).")
    else:
        report.digits_intro(rep, size["digits_iter"])
        report.robustness(rep, "digits", *experiments.robustness(
            *digits[:4], 10, digits[4], size["digits_test"], seed))
    if mnist is not None:
        rep.section("6. Robustness on MNIST 14 x 14 in the authors' configuration")
        Xtr, ytr, Xte, yte, models = experiments.mnist(mnist, size, threads, seed)
        report.mnist_intro(rep, len(Xtr), size["mnist_epochs"])
        report.robustness(rep, "mnist", *experiments.robustness(
            Xtr, ytr, Xte, yte, 10, models, size["mnist_test"], seed))


def run(out, quick=False, mnist=None, threads=None, seed=0, progress=print, mnist_train=None,
        mnist_epochs=None):
    """Run the experiments and write ``out/report.md``, ``out/report.json`` and the figures.

    Parameters
    ----------
    out : str or path-like
        The folder (created if missing).
    quick : bool
        Small sizes (about 10 s on 2 cores without MNIST).
    mnist : str or path-like, optional
        A folder with the MNIST files, for section 6.
    mnist_train : int, optional
        Train on the first `mnist_train` training images (default: all 60000 in the full
        run, as the authors did; 2000 in the quick one).
    mnist_epochs : int, optional
        Epochs over them (default: the authors' 10 in the full run, 1 in the quick one).
        The authors' full configuration takes hours on 2 cores; the report states the sizes
        it ran.
    threads : int, optional
    seed : int
    progress : callable
        Called with one line per section.

    Returns
    -------
    dict
        Every number of the report (as written to report.json).

    Raises
    ------
    ImportError
        Without matplotlib.
    ValueError
        If `out` cannot be written, or `mnist_train` or `mnist_epochs` is not a positive
        integer.
    """
    report.pyplot()  # (ImportError first, before any work)
    seed = check_int(seed, "seed", 0)
    size = dict(SIZES["quick" if quick else "full"])
    if mnist_train is not None:
        size["mnist_train"] = check_int(mnist_train, "mnist_train", 1)
    if mnist_epochs is not None:
        size["mnist_epochs"] = check_int(mnist_epochs, "mnist_epochs", 1)
    data = None if mnist is None else experiments.load_mnist(mnist)  # (errors first)
    if data is not None:
        (_, ytr), (_, yte) = data
        missing = np.setdiff1d(np.unique(yte), ytr[:size["mnist_train"]])
        if missing.size:
            raise ValueError(f"the first {size['mnist_train']} MNIST training images lack "
                             f"the class(es) {missing.tolist()} of the test images; train on "
                             "more (--mnist-train)")
    out = os.fspath(out)
    os.makedirs(out, exist_ok=True)
    if not os.access(out, os.W_OK):
        raise ValueError(f"the folder {out} is not writable")
    rep = report.Report(out, progress)
    rep.text(f"# snode reproduction report ({'quick' if quick else 'full'} run)", "",
             f"snode {__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}, "
             f"{platform.machine()}, {os.cpu_count()} CPUs, seed {seed}.",
             "Generated by `snode reproduce`; the numbers are in report.json.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LineSearchWarning)
        _sections(rep, size, threads, seed, data)
    seconds = time.perf_counter() - rep.t0
    rep.numbers["meta"] = dict(version=__version__, numpy=np.__version__,
                               python=sys.version.split()[0], machine=platform.machine(),
                               cpus=os.cpu_count(), seed=seed, quick=bool(quick),
                               seconds=seconds, figures=rep.figures, sizes=size)
    rep.text("", f"Total time {seconds:.0f} s.")
    rep.write()
    progress(f"[{seconds:6.1f} s] report written to {os.path.join(out, 'report.md')}")
    return rep.numbers
