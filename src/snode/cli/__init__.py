"""The command line: ``snode train``, ``snode evaluate MODEL``, ``snode predict MODEL``,
``snode info MODEL``, ``snode reproduce``.

``snode train`` with no options trains a classifier on the two-spirals data with NCG and the
hybrid Sobolev/L2 gradient, prints train and test accuracy, and saves the model to
snode-model.npz. Ctrl-C (or SIGTERM, as Slurm sends) during training saves the last good
model before exiting with status 130.

Rooms: :mod:`.parser` (the parser; the estimator's options generated from its parameter
table), :mod:`.train`, :mod:`.evaluate`, :mod:`.predict`, :mod:`.info`, :mod:`.reproduce` (one
command each),
:mod:`.data` (data sets by name, the split, the task), :mod:`.progress`. The commands are
imported when they run, so that ``snode --version`` and ``--help`` import little.
"""
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import time

from .._version import __version__
from ..exceptions import NonFiniteError
from ..mpi import launched_by_mpi

__all__ = ["main"]


def _parse(argv):
    """The parsed command line, with the flags given (``args.flags_given``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:  # (without building the parser, which imports the estimators)
        print(f"snode {__version__}")
        sys.exit(0)
    from .parser import build_parser

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # (named by the command's parser: "snode train: error: ...")
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    args.flags_given = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
    return args


def _command(name):
    """The function of a command (its module imported now)."""
    module = importlib.import_module(f".{name}", __name__)
    return getattr(module, name)


def main(argv=None):
    """The ``snode`` command; returns the exit status (130 after Ctrl-C: one line, no
    traceback, also while the commands' modules are being imported)."""
    try:
        return _main_any(argv)
    except KeyboardInterrupt:
        print("snode: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # (the reader of stdout left: ``snode predict ... | head``)
        try:  # (no second error when Python flushes stdout at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # (a stdout without a file)
            pass
        return 141  # (128 + SIGPIPE, as the shell reports a command its pipe ended)


def _main_any(argv):
    if not launched_by_mpi():
        args = _parse(argv)
        args.comm = None
        return _main(args)
    # one of several processes started by mpiexec: Ctrl-C is handled from the start (see
    # _main_mpi), and the parser's help, version and errors are printed by rank 0 alone
    stop = {"stop": False}
    signal.signal(signal.SIGINT, lambda signum, frame: stop.update(stop=True))
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.update(stop=True))
    if _launcher_rank() != 0:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), \
                contextlib.redirect_stderr(null):
            args = _parse(argv)
    else:
        args = _parse(argv)
    args.comm, args.stop = None, stop
    return _main_mpi(args)


def _launcher_rank():
    """This process's rank as the MPI launcher gave it (before MPI starts), else 0."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"):
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            pass
    return 0


def _main_mpi(args):
    """Under mpiexec: `train` on every rank over MPI_COMM_WORLD; the other commands on rank 0
    alone. An error on any rank ends the whole job (MPI_Abort) with its message, so that no
    rank waits forever for the others."""
    try:
        from ..mpi import world

        comm = world()
    except ImportError as exc:
        print(f"snode {args.command}: error: {exc}", file=sys.stderr)
        return 2
    rank, size = comm.Get_rank(), comm.Get_size()
    if args.command != "train":
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        return _main(args) if rank == 0 else 0
    args.comm = comm

    def on_interrupt(signum, frame):
        # the first Ctrl-C: every rank stops after the iteration they all finish next (the
        # ranks agree on it), rank 0 writes the last good weights; a second one ends the job
        if args.stop["stop"]:
            comm.Abort(130)
        args.stop["stop"] = True

    signal.signal(signal.SIGINT, on_interrupt)
    signal.signal(signal.SIGTERM, on_interrupt)  # (Slurm's scancel and time limit)
    failures = comm.Dup()  # (the ranks' failures meet here, apart from training's calls)
    try:
        code = _main(args, reraise=True)
    except BaseException as exc:  # noqa: BLE001 - any error ends every rank
        text = str(exc) or type(exc).__name__
        status = 130 if isinstance(exc, KeyboardInterrupt) else 2
        # most failures reach every rank alike (the ranks agree on bad data and settings):
        # then rank 0 alone says so and all end; a rank that failed alone says so and ends
        # the job (MPI_Abort), since the others wait for it
        together = _all_arrive(failures, ERROR_WAIT_S)
        if rank == 0 or not together:
            where = "" if together else f" (rank {rank} of {size})"
            print(f"snode train: error{where}: {text}", file=sys.stderr, flush=True)
        if together:
            return status
        time.sleep(0.5)  # (the launcher forwards the message before the job is torn down)
        comm.Abort(status)
        return status  # pragma: no cover - Abort does not return
    comm.Barrier()
    return code


#: How long a failed rank waits for the others to fail too before it ends the job alone.
ERROR_WAIT_S = 3.0


def _all_arrive(comm, wait_s):
    """Whether every rank of `comm` arrives at a barrier within `wait_s` seconds."""
    request = comm.Ibarrier()
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        if request.Test():
            return True
        time.sleep(0.01)
    return False


@contextlib.contextmanager
def _sigterm_as_ctrl_c(command):
    """During ``train`` in one process: SIGTERM (Slurm's scancel and time limit, kill) is
    taken as Ctrl-C, so that the last good model is saved; restored afterwards."""
    if command != "train" or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _messages(quiet):
    """The command's messages on stderr while it runs: its notes (the ``snode.cli`` logger,
    INFO; none with --quiet) and the library's warnings and errors logged under
    ``snode``. Training's own messages (``snode.estimators``, INFO) are --verbose's, which
    prints them on stdout."""
    log = logging.getLogger("snode")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: record.levelno >= logging.WARNING or (
        not quiet and record.name.startswith("snode.cli")))
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def _main(args, reraise=False):
    with _messages(getattr(args, "quiet", False)):
        return _main_logged(args, reraise)


def _main_logged(args, reraise):
    try:
        if args.comm is not None:  # (under mpiexec: SIGTERM is handled as Ctrl-C there)
            return _command(args.command)(args)
        with _sigterm_as_ctrl_c(args.command):
            return _command(args.command)(args)
    except NonFiniteError as exc:  # an overflow: what the user chose, with the way out
        if reraise:
            raise
        hint = ("try a smaller --T, more --steps, or a bounded activation such as tanh"
                if args.command == "train" else "the model overflows on these inputs")
        print(f"snode {args.command}: error: {exc} ({hint})", file=sys.stderr)
        return 2
    except BrokenPipeError:  # (not a mistake of the user's: main ends quietly)
        raise
    except (ValueError, ImportError, OSError, MemoryError) as exc:
        if reraise:
            raise
        print(f"snode {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
