"""The statistics of benchmarks/compare.py that its verdicts rest on."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))
import compare  # noqa: E402


def test_median_ci_is_two_order_statistics_with_binomial_tails():
    assert compare.median_ci([1.0] * 5) is None  # 2 * P(X = 0) = 1/16 > 5%
    assert compare.median_ci([3.0, 1.0, 2.0, 6.0, 5.0, 4.0]) == [1.0, 6.0]  # 2/64 <= 5%
    xs = list(np.arange(45.0))
    lo, hi = compare.median_ci(xs)
    j = int(lo) + 1  # 1-based rank of the lower bound
    tail = lambda k: sum(math.comb(45, i) for i in range(k)) / 2.0 ** 45  # noqa: E731
    assert 2 * tail(j) <= 0.05 < 2 * tail(j + 1)
    assert hi == 44 - lo  # symmetric ranks


def test_median_ci_covers_the_median_of_a_skewed_distribution():
    # Lognormal ratios (a long tail of disturbed rounds), 15 and 45 rounds:
    # the interval holds the true median in at least 95% of 4000 trials.
    rng = np.random.default_rng(0)
    for n in (15, 45):
        draws = np.exp(rng.normal(0.0, 0.3, (4000, n)))
        hits = 0
        for row in draws:
            lo, hi = compare.median_ci(list(row))
            hits += lo <= 1.0 <= hi
        assert hits / 4000 >= 0.945, (n, hits)
        assert hits / 4000 <= 0.995, (n, hits)  # not the trivial [min, max]


def test_median_ci_takes_thousands_of_rounds():
    # 2**n overflows a float from n = 1024; the ranks stay near n/2 -+ 1.96 sqrt(n) / 2.
    lo, hi = compare.median_ci([float(x) for x in range(3000)])
    assert abs(lo - (1500 - 1.96 * 3000 ** 0.5 / 2)) <= 3
    assert lo + hi == 2999


def test_paired_ratio_is_the_median_of_per_round_ratios():
    assert compare.paired_ratio([2.0, 3.0, 9.0], [1.0, 3.0, 3.0]) == 2.0
    assert compare.paired_ratio([], [1.0]) is None
    assert compare.paired_ratio(None, [1.0]) is None


@pytest.mark.parametrize("level", [0.9, 0.99])
def test_median_ci_other_levels_nest(level):
    xs = [float(x) for x in range(30)]
    lo, hi = compare.median_ci(xs, level)
    lo95, hi95 = compare.median_ci(xs)
    assert (lo >= lo95) if level < 0.95 else (lo <= lo95)
    assert (hi <= hi95) if level < 0.95 else (hi >= hi95)


class _V:
    def __init__(self, key, partner=None, adjacent=False):
        self.key, self.same_k_as, self.adjacent = key, partner, adjacent

    def __repr__(self):
        return self.key


def test_adjacent_pairs_put_each_pair_together_alternating_who_goes_first():
    import random
    probe1, probe2 = _V("probe/1"), _V("probe/2")
    fo1, fo2 = _V("fo/1", probe1, True), _V("fo/2", probe2, True)
    stream1 = _V("stream/1", probe1)  # same k, but not kept adjacent
    others = [_V(f"x{i}") for i in range(8)]
    variants = [fo1, probe1, stream1, fo2, probe2] + others
    rng = random.Random(0)
    first = {"fo/1": 0, "probe/1": 0}
    rounds = 40
    for r in range(rounds):
        order = list(variants)
        rng.shuffle(order)
        out = compare.adjacent_pairs(order, r)
        assert sorted(map(repr, out)) == sorted(map(repr, variants))
        for fo, probe in ((fo1, probe1), (fo2, probe2)):
            i, j = out.index(fo), out.index(probe)
            assert abs(i - j) == 1
            assert (i < j) == (r % 2 == 0)
        # every other variant keeps its shuffled relative order
        rest = [v for v in out if v not in (fo1, fo2)]
        assert rest == [v for v in order if v not in (fo1, fo2)]
        first["fo/1" if out.index(fo1) < out.index(probe1) else "probe/1"] += 1
    assert first == {"fo/1": rounds // 2, "probe/1": rounds // 2}


def test_adjacent_pairs_refuse_chains_and_shared_partners():
    probe = _V("probe/1")
    a, b = _V("a", probe, True), _V("b", probe, True)
    with pytest.raises(ValueError, match="partners of their own"):
        compare.adjacent_pairs([a, probe, b], 0)
    c = _V("c", a, True)
    with pytest.raises(ValueError, match="partners of their own"):
        compare.adjacent_pairs([a, probe, c], 0)


def test_adjacent_pairs_leave_a_variant_whose_partner_is_absent():
    probe = _V("probe/1")
    fo = _V("fo/1", probe, True)
    other = _V("x")
    assert compare.adjacent_pairs([other, fo], 0) == [other, fo]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
@pytest.mark.skipif(bool(os.environ.get("FASTOPTIM_SANITIZED")) or
                    "asan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer replaces malloc")
def test_malloc_thresholds_are_fixed_so_numpy_temporaries_stay_mapped():
    # In a child: the thresholds stay changed for the rest of a process. The
    # child allocates, fills and frees two 8 MiB temporaries three times, as a
    # NumPy step does, and reports where the blocks were, whether freeing them
    # shrank the heap, and the page faults of the third round.
    code = (
        "import ctypes, resource, sys, numpy as np\n"
        f"sys.path.insert(0, {str(BENCH)!r})\n"
        "from _workloads import fix_malloc_thresholds\n"
        "note = fix_malloc_thresholds() if sys.argv[1] == 'fix' else 'default'\n"
        "sbrk = ctypes.CDLL(None).sbrk\n"
        "sbrk.restype = ctypes.c_void_p\n"
        "def faults():\n"
        "    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for i in range(3):\n"
        "    f0 = faults()\n"
        "    a = np.ones(8 << 20, np.uint8)\n"
        "    b = a + 1\n"
        "    in_heap = max(a.ctypes.data, b.ctypes.data) + a.nbytes <= sbrk(0)\n"
        "    top = sbrk(0)\n"
        "    del a, b\n"
        "    f1 = faults()\n"
        "print(note, in_heap, sbrk(0) == top, f1 - f0)\n"
    )

    def run(arg):
        out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        note, in_heap, kept, faults = out.stdout.rsplit(" ", 3)
        return note, in_heap == "True", kept == "True", int(faults)

    note, in_heap, kept, faults = run("fix")
    assert note == "glibc mmap threshold 32 MiB, trim threshold 1 GiB (fixed)"
    assert in_heap and kept  # from the heap (mmap threshold), not given back (trim threshold)
    assert faults < 100, faults  # 16 MiB of fresh pages: 4096 faults (or 8 huge ones)
    # Without the fix the same loop faults its pages in again every round,
    # so the test can tell the difference.
    assert run("none")[3] >= 4


@pytest.mark.parametrize("value", ["0", "1", "-3", "x"])
def test_rounds_below_two_are_a_usage_error(value, capsys):
    # A paired ratio's interval needs two rounds; 0 used to mean the default.
    with pytest.raises(SystemExit) as e:
        compare.main(["--rounds", value, "--out", os.devnull])
    assert e.value.code == 2
    assert "--rounds: expected an integer >= 2" in capsys.readouterr().err
