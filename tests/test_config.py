"""Dispatch and configuration: ISA levels, the environment overrides, threads."""

import os
import subprocess
import sys

import pytest

import fastoptim as fo
from fastoptim import _core


def _run(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code],
                          capture_output=True, text=True, env=full_env, timeout=120)


def test_supported_levels_are_ordered_and_include_baseline():
    levels = _core.supported_isas()
    assert levels[0] == "baseline"
    order = ["baseline", "avx2", "avx512"]
    assert levels == order[: len(levels)]
    assert _core.best_isa() == levels[-1]


def test_set_isa_switches_and_refuses_unknown_levels():
    before = _core.active_isa()
    try:
        for level in _core.supported_isas():
            _core.set_isa(level)
            assert _core.active_isa() == level
            assert fo.get_config()["isa"] == level
        with pytest.raises(ValueError, match="isa must be one of"):
            _core.set_isa("sse9")
    finally:
        _core.set_isa(before)


def test_env_isa_forces_a_lower_level():
    r = _run("import fastoptim._core as c; print(c.active_isa())", FASTOPTIM_ISA="baseline")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "baseline"


def test_env_isa_unknown_value_warns_and_keeps_the_best_level():
    r = _run("import fastoptim", FASTOPTIM_ISA="quantum")
    assert r.returncode != 0
    assert "FASTOPTIM_ISA='quantum'" in r.stderr


def test_env_num_threads():
    r = _run("import fastoptim as fo; print(fo.get_num_threads())", FASTOPTIM_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"
    for bad in ("many", "0", "5000"):
        r = _run("import fastoptim", FASTOPTIM_NUM_THREADS=bad)
        assert r.returncode != 0
        assert f"FASTOPTIM_NUM_THREADS='{bad}' is not an integer from 1 to 4096" in r.stderr


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_default_num_threads_is_the_cpus_the_process_may_use():
    """README: the default is the CPU count of the process's affinity mask, uncapped."""
    env = {k: v for k, v in os.environ.items() if k != "FASTOPTIM_NUM_THREADS"}
    code = ("import os, sys\n"
            "if len(sys.argv) > 1: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
            "import fastoptim as fo\n"
            "print(fo.get_num_threads(), len(os.sched_getaffinity(0)))")
    for argv in ([], ["one-cpu"]):
        r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                           env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        threads, cpus = map(int, r.stdout.split())
        assert threads == cpus
        if argv:
            assert threads == 1


def test_set_num_threads_validates():
    before = fo.get_num_threads()
    try:
        fo.set_num_threads(1)
        assert fo.get_num_threads() == 1
        with pytest.raises(ValueError, match="n must be between 1 and 4096"):
            fo.set_num_threads(0)
        with pytest.raises(TypeError, match="n must be an int"):
            fo.set_num_threads(1.5)
    finally:
        fo.set_num_threads(before)


def test_show_config_prints_isa_and_threads(capsys):
    fo.show_config()
    out = capsys.readouterr().out
    assert f"isa: {_core.active_isa()}" in out
    assert f"num_threads: {fo.get_num_threads()}" in out
    assert fo.__version__ in out


def test_version_has_one_source():
    from fastoptim._version import __version__

    assert fo.__version__ == __version__ == _core.__version__


def _threaded_step_in_child(n: int) -> float:
    import numpy as np

    import fastoptim as fo

    p = np.zeros(n, np.float32)
    fo.SGD([p], lr=1.0).step([np.ones(n, np.float32)])
    return float(p.sum())


def test_thread_pool_works_in_a_forked_child():
    import multiprocessing as mp

    import numpy as np

    before = (_core.get_parallel_threshold(), _core.get_num_threads())
    try:
        _core.set_num_threads(2)
        _core.set_parallel_threshold(1024)
        n = 1 << 16
        assert _threaded_step_in_child(n) == -n  # the parent's pool has workers now
        ctx = mp.get_context("fork")
        with ctx.Pool(2) as pool:
            results = pool.map(_threaded_step_in_child, [n] * 4, chunksize=1)
        assert results == [-float(n)] * 4
        p = np.zeros(n, np.float32)
        fo.SGD([p], lr=1.0).step([np.ones(n, np.float32)])
        assert p.sum() == -n  # and the parent's pool still works
    finally:
        _core.set_parallel_threshold(before[0])
        _core.set_num_threads(before[1])
