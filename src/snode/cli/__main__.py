"""``python -m snode.cli``: the command line (as ``snode``)."""
import sys

from . import main

sys.exit(main())
