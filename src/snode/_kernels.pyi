# Type information of the compiled core, for type checkers: its wrappers (declared in
# _kernels.pyx.in, expanded per dtype at build time) take and return numpy arrays.
from typing import Any

def __getattr__(name: str) -> Any: ...
