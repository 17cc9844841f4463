"""One OpenBLAS thread for small matrices: the tiny model of lessons 2 and 4 trains with it."""

from __future__ import annotations

import ctypes
import functools
from contextlib import contextmanager
from functools import lru_cache

# The matrices here are small. On a busy 2-core machine OpenBLAS threads wait for each other and training
# became 10-20x slower in our measurements; one thread is fast and steady. threadpoolctl would do this, but it
# is not a dependency, so we call OpenBLAS's own setter when numpy's OpenBLAS is loaded (Linux), else do nothing.


@lru_cache(maxsize=1)
def _openblas_thread_functions():
    """(set, get) of the OpenBLAS thread count loaded in this process, or (None, None)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None, None
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            setter = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
            getter = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                return setter, getter
    return None, None


@contextmanager
def one_blas_thread():
    """Run the block with OpenBLAS limited to one thread, restoring the previous count afterwards."""
    setter, getter = _openblas_thread_functions()
    if setter is None:
        yield
        return
    previous = getter()
    setter(1)
    try:
        yield
    finally:
        setter(previous)


def single_threaded(function):
    """Decorator: run the function inside one_blas_thread()."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return function(*args, **kwargs)

    return wrapper


