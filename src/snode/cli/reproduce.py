"""``snode reproduce``: the method's experiments, written as a report."""
import os
import sys

from .data import needs_matplotlib, writable

__all__ = ["reproduce"]


def reproduce(args):
    """The ``reproduce`` command; returns the exit status."""
    if not args.out:
        raise ValueError("--out must name a folder")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out} is a file; give a folder")
    writable(os.path.join(args.out, "report.md") if os.path.isdir(args.out) else args.out,
             "--out")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.mnist is not None and not os.path.isdir(args.mnist):
        raise ValueError(f"--mnist {args.mnist!r} is not a folder")
    for opt, value in (("--mnist-train", args.mnist_train),
                       ("--mnist-epochs", args.mnist_epochs)):
        if value is not None and value < 1:
            raise ValueError(f"{opt} must be >= 1, got {value}")
        if value is not None and args.mnist is None:
            raise ValueError(f"{opt} needs --mnist")
    needs_matplotlib("snode reproduce")  # (its figures)
    from ..reproduce import run

    try:
        run(args.out, quick=args.quick, mnist=args.mnist, threads=args.threads,
            seed=args.seed, progress=lambda line: print(line, flush=True),
            mnist_train=args.mnist_train, mnist_epochs=args.mnist_epochs)
    except KeyboardInterrupt:
        print("interrupted: no report written", file=sys.stderr)
        return 130
    return 0
