"""``python -m snode``: the command line (as ``snode``)."""
import sys

from .cli import main

sys.exit(main())
