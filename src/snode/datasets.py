"""The data sets and preprocessing of :mod:`snode.data`, under the name earlier versions used
(``snode.datasets``): the same functions and classes.

Examples
--------
>>> import snode
>>> snode.datasets.moons is snode.data.moons
True
"""
from .data import *  # noqa: F401,F403
from .data import NAMES, __all__  # noqa: F401
