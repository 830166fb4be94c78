"""Build step (not installed): expand a Tempita template of a Cython module, _kernels.pyx.in
into _kernels.pyx, with Cython's own copy of Tempita (Cython is a build requirement).

    python tempita.py INPUT OUTPUT
"""
import sys

from Cython import Tempita


def main(argv):
    src, out = argv
    with open(src, encoding="utf-8") as f:
        text = Tempita.sub(f.read(), __name=src)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
