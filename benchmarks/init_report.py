"""Side-by-side speed of the random fills behind the initializers.

fastoptim ``Generator.normal_`` / ``uniform_`` (float32 and float64) against
NumPy's ``Generator.standard_normal(out=..., dtype=...)`` / ``random(out=...)``
(PCG64, ziggurat) and torch's ``Tensor.normal_`` / ``uniform_`` when torch
imports, measured interleaved in one run so machine noise hits all alike.

    PYTHONPATH=python python benchmarks/init_report.py            # 16M elements
    PYTHONPATH=python python benchmarks/init_report.py --sizes 1000000 16777216

``init_rows(sizes, threads)`` returns the rows for the project's comparison
report: one dict per (dist, dtype, n, threads) with ns/element of each
implementation (best of the rounds, and the median) and the ratios
``numpy_over_fo`` / ``torch_over_fo`` (how many times faster fastoptim is).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from fastoptim import _core
from fastoptim.random import Generator
from fastoptim.reference import random as ref
from _workloads import import_torch


TORCH = import_torch()
DISTS = ("normal", "uniform")
DTYPES = (np.float32, np.float64)


def check_correct() -> None:
    """A wrong kernel must not be timed: a small fill of each kind against the
    NumPy reference, bit for bit."""
    for dtype in DTYPES:
        for dist in DISTS:
            got = getattr(Generator(7), dist + "_")(np.empty(4099, dtype))
            want = getattr(ref, dist)(4099, dtype, 7)
            if not np.array_equal(got.view(np.uint8), want.view(np.uint8)):
                raise AssertionError(f"fastoptim {dist} {np.dtype(dtype)} differs from the "
                                     "reference; not timing a broken kernel")


def _fills(dist: str, a: np.ndarray) -> Dict[str, Callable[[], None]]:
    gen = Generator(1)
    rng = np.random.default_rng(1)
    fo_fill = getattr(gen, dist + "_")
    out: Dict[str, Callable[[], None]] = {"fastoptim": lambda: fo_fill(a)}
    if dist == "normal":
        out["numpy"] = lambda: rng.standard_normal(out=a, dtype=a.dtype)
    else:
        out["numpy"] = lambda: rng.random(out=a, dtype=a.dtype)
    if TORCH is not None:
        t = TORCH.from_numpy(a)
        out["torch"] = (lambda: t.normal_()) if dist == "normal" else (lambda: t.uniform_())
    return out


def _set_threads(n: int) -> None:
    _core.set_num_threads(n)
    if TORCH is not None:
        TORCH.set_num_threads(n)


def init_rows(sizes: Sequence[int] = (1 << 24,), threads: Sequence[int] = (1, 2),
              rounds: int = 5, dists: Sequence[str] = DISTS,
              dtypes: Sequence = DTYPES) -> List[Dict]:
    """ns/element of each fill, side by side; see the module docstring."""
    check_correct()
    old_threads = _core.get_num_threads()
    old_torch = TORCH.get_num_threads() if TORCH is not None else None
    rows: List[Dict] = []
    try:
        for n in sizes:
            for dtype in dtypes:
                a = np.zeros(int(n), dtype)  # touched once: no page faults in the timings
                for dist in dists:
                    fills = _fills(dist, a)
                    for nt in threads:
                        _set_threads(nt)
                        times: Dict[str, List[float]] = {k: [] for k in fills}
                        for f in fills.values():
                            f()  # warm-up
                        for _ in range(rounds):
                            for k, f in fills.items():
                                t0 = time.perf_counter()
                                f()
                                times[k].append(time.perf_counter() - t0)
                        row: Dict = {"dist": dist, "dtype": np.dtype(dtype).name, "n": int(n),
                                     "threads": nt, "isa": _core.active_isa()}
                        for k, ts in times.items():
                            row[k] = min(ts) * 1e9 / n
                            row[k + "_median"] = statistics.median(ts) * 1e9 / n
                        for k in ("numpy", "torch"):
                            row[k + "_over_fo"] = (row[k] / row["fastoptim"]) if k in row else None
                        rows.append(row)
    finally:
        _core.set_num_threads(old_threads)
        if TORCH is not None:
            TORCH.set_num_threads(old_torch)
    for r in rows:
        if r["dtype"] == "float64":
            f32 = [x for x in rows if x["dtype"] == "float32" and x["dist"] == r["dist"]
                   and x["n"] == r["n"] and x["threads"] == r["threads"]]
            r["f64_over_f32"] = r["fastoptim"] / f32[0]["fastoptim"] if f32 else None
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def _fmt(x: Optional[float], spec: str = "6.2f") -> str:
    return format(x, spec) if x is not None else "-".rjust(int(spec.split(".")[0]))


def print_table(rows: List[Dict]) -> None:
    print(f"machine:  {machine()}")
    print(f"ISA: {_core.active_isa()} (supported: {', '.join(_core.supported_isas())}); "
          f"compiler: {_core.compiler()}; numpy {np.__version__}; "
          f"torch {TORCH.__version__ if TORCH is not None else 'not installed'}")
    print("ns/element, best of the rounds (median in parentheses); x = times faster than")
    head = (f"{'dist':8} {'dtype':8} {'n':>9} {'thr':>3} | {'fastoptim':>16} {'numpy':>16} "
            f"{'torch':>16} | {'np/fo':>6} {'torch/fo':>8} {'f64/f32':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        def cell(k):
            if k not in r:
                return "-".rjust(16)
            return f"{r[k]:7.3f} ({r[k + '_median']:6.3f})"
        print(f"{r['dist']:8} {r['dtype']:8} {r['n']:>9} {r['threads']:>3} | "
              f"{cell('fastoptim')} {cell('numpy')} {cell('torch')} | "
              f"{_fmt(r['numpy_over_fo'], '6.1f')} {_fmt(r['torch_over_fo'], '8.1f')} "
              f"{_fmt(r.get('f64_over_f32'), '7.2f')}")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1 << 24])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    print_table(init_rows(args.sizes, args.threads, args.rounds))


if __name__ == "__main__":
    main()
