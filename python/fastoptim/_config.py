"""Run-time configuration: ISA level, threads, and what is in use."""

from __future__ import annotations

import numbers
import os
import platform
import sys
import warnings

import numpy as np

from . import _core
from ._version import __version__

__all__ = ["show_config", "get_config", "set_num_threads", "get_num_threads"]


def _warn_bad_env() -> None:
    if not _core._env_isa_ok:
        warnings.warn(
            f"FASTOPTIM_ISA={os.environ.get('FASTOPTIM_ISA')!r} is not one of "
            f"{_core.supported_isas()} (the levels this CPU supports); using "
            f"{_core.active_isa()!r}",
            RuntimeWarning, stacklevel=3)
    if not _core._env_threads_ok:
        warnings.warn(
            f"FASTOPTIM_NUM_THREADS={os.environ.get('FASTOPTIM_NUM_THREADS')!r} is not an "
            f"integer from 1 to 4096; using {_core.get_num_threads()} threads",
            RuntimeWarning, stacklevel=3)


def set_num_threads(n: int) -> None:
    """Use up to ``n`` threads (1 to 4096) for large steps and fills.

    The default is ``$FASTOPTIM_NUM_THREADS`` if set, else the number of CPUs
    the process may run on (its affinity mask on Linux).
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    n = int(n)
    if not 1 <= n <= 4096:
        raise ValueError(f"n must be between 1 and 4096, got {n}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Number of threads large steps and fills may use."""
    return _core.get_num_threads()


def get_config() -> dict:
    """What fastoptim uses on this machine, as a dict (see :func:`show_config`)."""
    return {
        "version": __version__,
        "isa": _core.active_isa(),
        "best_isa": _core.best_isa(),
        "supported_isas": list(_core.supported_isas()),
        "num_threads": _core.get_num_threads(),
        "parallel_threshold": _core.get_parallel_threshold(),
        "compiler": _core.compiler(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "python": sys.version.split()[0],
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def show_config() -> None:
    """Print the version, ISA level in use, supported levels and thread count."""
    for key, value in get_config().items():
        print(f"{key:>18}: {value}")
