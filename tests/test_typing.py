"""Typed API: generated _core stubs match the module; mypy passes on the package and a user script."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "python" / "fastoptim"
EXAMPLE = Path(__file__).resolve().parent / "typing_example.py"

# Misuses mypy must reject (one per line, each marked with its error code).
MISUSES = textwrap.dedent("""
    import numpy as np
    import fastoptim as fo
    from fastoptim import _core, checkpoint

    _core.set_num_threads("4")  # E: arg-type
    checkpoint.save(1.5, {"W": np.zeros(3)})  # E: arg-type
    n: str = _core.get_num_threads()  # E: assignment
    ckpt = checkpoint.load("m.npz")
    ckpt.optimizer_class.lower()  # E: union-attr
    fo.checkpoint.load("m.npz", optimizer=object())  # E: arg-type
""")


def _require(module: str, package: str) -> None:
    try:
        __import__(module)
    except ImportError:
        pytest.fail(f"{module} is not installed: pip install {package} "
                    "(it is part of the test extra: pip install -e .[test])")


def test_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()


def _layout_free(stub: str) -> list:
    return [line.strip() for line in stub.splitlines() if line.strip()]


def test_core_stubs_are_generated_and_current():
    """python/fastoptim/_core.pyi is what tools/gen-stubs.sh makes from the built module."""
    _require("pybind11_stubgen", "pybind11-stubgen")
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run(["bash", str(ROOT / "tools" / "gen-stubs.sh"), out],
                              env={**os.environ, "PYTHON": sys.executable},
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        fresh = Path(out, "_core.pyi").read_text()
    committed = (PACKAGE / "_core.pyi").read_text()
    # Python versions lay out docstring whitespace differently; what must not
    # drift is the text of every signature and docstring.
    assert _layout_free(fresh) == _layout_free(committed), (
        "python/fastoptim/_core.pyi differs from the built module's stubs: rebuild "
        "(tools/dev-build.sh), run tools/gen-stubs.sh and commit the result")


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    """One mypy run over the package, the example script and the misuses."""
    _require("mypy", "mypy")
    from mypy import api

    misuse = tmp_path_factory.mktemp("typing") / "misuse.py"
    misuse.write_text(MISUSES)
    cache = tmp_path_factory.mktemp("mypy-cache")
    cwd = os.getcwd()
    os.chdir(ROOT)  # mypy.ini and its relative paths
    try:
        stdout, stderr, status = api.run(["--config-file", str(ROOT / "mypy.ini"),
                                          "--cache-dir", str(cache), "--show-error-codes",
                                          "--no-error-summary", str(PACKAGE),
                                          str(EXAMPLE), str(misuse)])
    finally:
        os.chdir(cwd)
    assert not stderr, stderr
    lines = [ln for ln in stdout.splitlines() if ": error:" in ln]
    return lines, misuse


def test_mypy_clean_on_package(mypy_report):
    lines, _ = mypy_report
    errors = [ln for ln in lines if "fastoptim" + os.sep in ln.replace("/", os.sep)
              and "misuse" not in ln]
    assert not errors, "\n".join(errors)


def test_mypy_clean_on_user_script(mypy_report):
    lines, _ = mypy_report
    errors = [ln for ln in lines if "typing_example" in ln]
    assert not errors, "\n".join(errors)


def test_mypy_rejects_misuse(mypy_report):
    lines, misuse = mypy_report
    expected = {}
    for no, text in enumerate(MISUSES.splitlines(), 1):
        if "# E: " in text:
            expected[no] = text.split("# E: ")[1].strip()
    got = {}
    for ln in lines:
        if "misuse.py" in ln:
            no = int(ln.split(":")[1])
            got.setdefault(no, set()).add(ln.rsplit("[", 1)[-1].rstrip("]"))
    missing = {no: code for no, code in expected.items() if code not in got.get(no, set())}
    assert not missing, f"mypy accepted misuses on lines {missing}; it said:\n" + "\n".join(lines)
    unexpected = sorted(set(got) - set(expected))
    assert not unexpected, "\n".join(lines)


def test_example_script_runs():
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import typing_example
    finally:
        sys.path.pop(0)
    with tempfile.TemporaryDirectory() as d:
        assert typing_example.train(3, d) >= 0.0
