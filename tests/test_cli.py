"""The `fastoptim` command through cli.main(argv), at tiny sizes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fastoptim
from fastoptim.cli import main
from fastoptim.experiments import EXPERIMENTS

needs_data_and_plot = pytest.mark.skipif(
    not all(__import__("importlib").util.find_spec(m) for m in ("sklearn", "matplotlib")),
    reason="needs scikit-learn and matplotlib")


@pytest.fixture(autouse=True)
def _digits_unless_told(monkeypatch):
    """The claims are tuned on the digits: a user's FASTOPTIM_DATA must not leak in."""
    monkeypatch.delenv("FASTOPTIM_DATA", raising=False)


def test_help_explains_each_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for word in ("demo", "list", "run", "--version", "--data", "FASTOPTIM_DATA"):
        assert word in text
    for sub in ("demo", "run"):
        with pytest.raises(SystemExit):
            main([sub, "--help"])
        text = capsys.readouterr().out
        assert "--out" in text and "--seed" in text and "--data" in text
    assert "--iterations" in text or "--set" in text


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: fastoptim" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"fastoptim {fastoptim.__version__}"


def test_list(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(EXPERIMENTS)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


@needs_data_and_plot
def test_run_writes_figure_and_prints_numbers(tmp_path, capsys):
    assert main(["run", "learning_rate", "--out", str(tmp_path), "--seed", "3",
                 "--set", "iterations=20", "--set", "hidden=(50, 50)"]) == 0
    out = capsys.readouterr().out
    assert "lr 10: final loss" in out and "diverged True" in out
    png = tmp_path / "learning_rate.png"
    from matplotlib.image import imread
    assert imread(png).ndim == 3
    assert f"figure: {png}" in out


def test_run_header_shows_the_arguments_used(capsys):
    assert main(["run", "trajectories", "--no-figure", "--set", "steps=5",
                 "--set", "start=(1, 0.5)", "--set", "lr={'SGD': 0.1, 'Adam': 0.2}"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("trajectories: paths of SGD, Adam on x^2/20 + y^2 "
                                   "from (1, 0.5), 5 steps")


@needs_data_and_plot
def test_run_header_shows_the_iterations_used(capsys):
    assert main(["run", "optimizers", "--no-figure", "--set", "iterations=3",
                 "--set", "hidden=(8,)", "--set", "names=('SGD', 'Adam')",
                 "--set", "batch_size=16"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("optimizers: 2 optimizers on the 2-layer ReLU MLP, batch 16, "
                                   "3 iterations")


def test_run_without_data_notes_ignored_flag(tmp_path, capsys):
    assert main(["run", "saddle", "--no-figure", "--data", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "--data ignored" in captured.err
    assert "step when |y| > 1" in captured.out
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv, message", [
    (["run", "nonsense"], "unknown experiment 'nonsense'"),
    (["run", "saddle", "--set", "steps"], "KEY=VALUE"),
    (["run", "saddle", "--set", "bogus=1"], "saddle has no argument bogus"),
    (["demo", "--dtype", "int8"], "invalid choice"),
    (["demo", "--iterations", "0"], "argument --iterations: expected a positive integer, got 0"),
    (["demo", "--iterations", "-3"], "argument --iterations: expected a positive integer, got -3"),
    (["demo", "--iterations", "2.5"], "--iterations: expected a positive integer, got '2.5'"),
    (["demo", "--seed", "-1"], "argument --seed: expected a non-negative integer, got -1"),
    (["run", "saddle", "--seed", "x"], "argument --seed: expected a non-negative integer, got 'x'"),
    (["run", "saddle", "--set", "seed=5"], "--set seed=... is not accepted: use --seed"),
    (["run", "saddle", "--set", "out='figs'"], "--set out=... is not accepted: use --out"),
    (["run", "optimizers", "--set", "data='mnist'"], "--set data=... is not accepted: use --data"),
    (["run", "saddle", "--set", "data='mnist'"], "--set data=... is not accepted: use --data"),
    (["run", "optimizers", "--set", "bogus=1"],
     "optimizers has no argument bogus; it takes iterations, batch_size, hidden, names, lr, "
     "dtype through --set, and seed, out, data through --seed, --out, --data"),
    (["run", "optimizers", "--set", "progress=3"], "--set progress=... is not accepted: it "
     "takes a function"),
    (["run", "tuning", "--set", "executor=3"], "--set executor=... is not accepted: it takes a "
     "concurrent.futures.Executor"),
])
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def no_work(monkeypatch):
    """The experiments' first steps of work fail the test: a refusal must come before them."""
    import importlib

    def refuse(*args, **kwargs):
        raise AssertionError("the experiment started working before refusing its arguments")

    for mod in ("trajectories", "learning_rate", "optimizers", "batchnorm", "tuning"):
        mod = importlib.import_module(f"fastoptim.experiments.{mod}")
        for attr in ("load", "_split", "rng_from", "seed_pair", "_run_paths", "save"):
            if hasattr(mod, attr):
                monkeypatch.setattr(mod, attr, refuse)


@pytest.mark.parametrize("argv, message", [
    (["run", "optimizers", "--set", "lr=0.1", "--set", "iterations=2"],
     "lr must be a dict of optimizer name to learning rate, e.g. {'SGD': 0.1}, got float 0.1"),
    (["run", "trajectories", "--set", "steps=abc"], "steps must be a positive int, got str 'abc'"),
    (["run", "learning_rate", "--set", "iterations=1e2"],
     "iterations must be a positive int, got float 100.0"),
    (["run", "batchnorm", "--set", "n_scales=0"], "n_scales must be a positive int, got 0"),
    (["run", "optimizers", "--set", "dtype='float16'", "--set", "iterations=2"],
     "dtype must be float32 or float64, got float16"),
    (["run", "trajectories", "--set", "steps=-1"], "steps must be a positive int, got -1"),
    (["run", "learning_rate", "--set", "iterations=0"], "iterations must be a positive int, got 0"),
    (["run", "tuning", "--set", "trials=0"], "trials must be a positive int, got 0"),
    (["run", "optimizers", "--set", "names=Adam"],
     "names must be a sequence of optimizer names, e.g. names=['Adam'], got str 'Adam'"),
    (["run", "optimizers", "--set", "names=['Adam', 'AdamW']"],
     "names: unknown optimizer 'AdamW'; choose from SGD"),
    (["run", "saddle", "--set", "start=(1, 2, 3)"], "start must be a pair of numbers (x, y)"),
])
def test_bad_set_values_exit_1_without_traceback(argv, message, capsys, no_work, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "figs")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"fastoptim: error: {message}") and captured.err.count("\n") == 1
    assert "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "figs").exists()


@pytest.mark.parametrize("command", [["run", "tuning"], ["run", "trajectories"], ["demo"]])
def test_out_that_is_a_file_fails_before_the_run(command, capsys, no_work, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("keep")
    extra = ["--no-progress"] if command == ["demo"] else []
    assert main(command + ["--out", str(afile)] + extra) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastoptim: error: out must be a folder for the figure, but ")
    assert "exists and is not a directory" in err and "Traceback" not in err
    assert afile.read_text() == "keep"


def test_bad_set_value_in_a_process(tmp_path):
    # The real command (no guard): exit status 1, one line on stderr, no traceback.
    (tmp_path / "afile").write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(fastoptim.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    for args in (["--set", "steps=abc"], ["--out", "afile"]):
        proc = subprocess.run([sys.executable, "-m", "fastoptim.cli", "run", "trajectories", *args],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.startswith("fastoptim: error: ") and proc.stderr.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_missing_mnist_file_is_named(tmp_path, capsys):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"")
    assert main(["run", "optimizers", "--data", str(tmp_path), "--no-figure"]) == 1
    err = capsys.readouterr().err
    assert "train-labels-idx1-ubyte" in err and err.startswith("fastoptim: error:")


def test_malformed_mnist_file_is_one_line(tmp_path, capsys):
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (tmp_path / name).write_bytes(b"\x01\x02\x08\x01")
    assert main(["run", "optimizers", "--data", str(tmp_path), "--no-figure"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastoptim: error: ") and "not an IDX file" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("error", [TypeError, ValueError])
def test_a_bug_inside_an_experiment_keeps_its_traceback(monkeypatch, capsys, error):
    # Only argument refusals (fastoptim._errors.UsageError) become one-line
    # errors: a TypeError or ValueError from the work itself is a bug.
    import importlib

    mod = importlib.import_module("fastoptim.experiments.trajectories")

    def broken(*args, **kwargs):
        raise error("a bug")

    monkeypatch.setattr(mod, "_run_paths", broken)
    with pytest.raises(error, match="a bug"):
        main(["run", "trajectories", "--no-figure"])
    assert "fastoptim: error" not in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["run", "batchnorm", "--set", "n_train=5000"],
     "n_train=5000 is more than the 1438 training samples of digits; pass n_train=1438 at most"),
    (["run", "optimizers", "--set", "names=['SGD']", "--set", "lr={'Adam': 0.1}"],
     "lr sets a rate for 'Adam', not among names (SGD)"),
])
def test_arguments_checked_against_the_data_and_each_other(argv, message, capsys, tmp_path):
    pytest.importorskip("sklearn")
    assert main(argv + ["--no-figure"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"fastoptim: error: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


@needs_data_and_plot
def test_demo_reduced(tmp_path, capsys):
    assert main(["demo", "--iterations", "20", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    names = ["SGD", "Momentum", "AdaGrad", "RMSProp", "Adam"]
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in names]
    assert [r[0] for r in rows] == names
    for r in rows:
        lr, loss, acc, ms, ms_update = map(float, r[1:])
        assert loss > 0 and 0 <= acc <= 1 and ms > ms_update > 0
    assert (tmp_path / "optimizers.png").is_file()


@needs_data_and_plot
def test_demo_progress_bar(tmp_path, capsys):
    pytest.importorskip("tqdm")
    assert main(["demo", "--iterations", "4", "--out", str(tmp_path), "--no-figure",
                 "--dtype", "float32"]) == 0
    captured = capsys.readouterr()
    assert "20/20" in captured.err          # 5 optimizers x 4 steps
    assert "float32" in captured.out
    assert not (tmp_path / "optimizers.png").exists()


@pytest.mark.parametrize("module", ["fastoptim", "fastoptim.cli"])
def test_module_entry_point(module, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(fastoptim.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", module, "list"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == "trajectories"


def test_missing_matplotlib_still_prints_numbers(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert main(["run", "trajectories", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "fastoptim[plot]" in captured.err and "final f:" in captured.out
    assert not list(tmp_path.iterdir())


def _write_tiny_mnist(folder, n_train=150, n_test=40):
    import gzip
    import struct

    import numpy as np

    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8)}
    for name, a in arrays.items():
        header = bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
        with gzip.open(folder / f"{name}.gz", "wb") as f:
            f.write(header + a.tobytes())


@pytest.mark.parametrize("via_env", [False, True])
def test_run_on_mnist_folder(tmp_path, capsys, monkeypatch, via_env):
    _write_tiny_mnist(tmp_path)
    argv = ["run", "optimizers", "--no-figure", "--set", "iterations=3", "--set", "hidden=(8,)",
            "--set", "names=('SGD', 'Adam')"]
    if via_env:
        monkeypatch.setenv("FASTOPTIM_DATA", str(tmp_path))
    else:
        monkeypatch.delenv("FASTOPTIM_DATA", raising=False)
        argv += ["--data", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "data: mnist" in out and "Adam: final loss" in out
