"""Each experiment at reduced size: the lecture's claim, checked on the numbers."""

import concurrent.futures as cf
import re
import time

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from fastoptim import experiments as ex  # noqa: E402
from fastoptim._errors import UsageError  # noqa: E402


@pytest.fixture(autouse=True)
def _digits_unless_told(monkeypatch):
    """The claims are tuned on the digits: a user's FASTOPTIM_DATA must not leak in."""
    monkeypatch.delenv("FASTOPTIM_DATA", raising=False)


def assert_png(path, min_side=100):
    from matplotlib.image import imread

    assert path is not None and path.suffix == ".png" and path.is_file()
    img = imread(path)
    assert img.ndim == 3 and min(img.shape[:2]) >= min_side
    assert img.std() > 0.01, "blank figure"
    assert path.stat().st_size < 400_000


def test_registry():
    assert list(ex.EXPERIMENTS) == ["trajectories", "saddle", "learning_rate", "optimizers",
                                    "activations", "zero_init", "initializers", "batchnorm",
                                    "overfitting", "tuning"]
    for name, e in ex.EXPERIMENTS.items():
        assert e.name == name and callable(e.run)
        assert e.description and "\n" not in e.description
        assert e.describe() == e.description


@pytest.mark.parametrize("name, kwargs, words, stale", [
    ("tuning", dict(trials=20, val_fraction=0.25, epochs=5),
     "25% validation split, 20 trials of 5 epochs", "100"),
    ("optimizers", dict(iterations=200, hidden=(50, 50), names=("SGD", "Adam"), batch_size=64),
     "2 optimizers on the 3-layer ReLU MLP, batch 64, 200 iterations", "2000"),
    ("learning_rate", dict(rates=(1.0, 1e-3), iterations=50), "lr 1, 0.001, 50 iterations", "300"),
    ("batchnorm", dict(n_scales=4, epochs=3),
     "over 4 weight scales from 1 to 1e-4, 3 epochs", "16"),
    ("batchnorm", dict(scales=[0.5, 0.05]), "over 2 weight scales from 0.5 to 0.05", "16"),
    ("overfitting", dict(n_train=100, hidden=(10,), epochs=7, regularizers={"plain": {}}),
     "100 samples, 2-layer MLP, 7 epochs: plain", "301"),
    ("initializers", dict(iterations=30, hidden=(10,), choices={"He": "he"}),
     "He on the 2-layer ReLU MLP, 30 iterations", "2000"),
    ("activations", dict(layers=3, configs=(("t", "tanh", 1.0),)), "3 layers for tanh", "5"),
    ("saddle", dict(steps=9, start=(2, 0.5)), "started at (2, 0.5), 9 steps", "60"),
])
def test_describe_reports_the_arguments(name, kwargs, words, stale):
    line = ex.EXPERIMENTS[name].describe(**kwargs)
    assert words in line and stale not in line


def test_trajectories_sgd_zigzags_adagrad_goes_straight(tmp_path):
    r = ex.trajectories(out=tmp_path)
    assert_png(r.figure)
    assert set(r.paths) == {"SGD", "Momentum", "AdaGrad", "RMSProp", "Adam"}
    for path in r.paths.values():
        assert path.shape == (31, 2)
        np.testing.assert_array_equal(path[0], [-7, 2])
    sign_flips = lambda y: np.mean(np.sign(y[1:]) != np.sign(y[:-1]))  # noqa: E731
    assert sign_flips(r.paths["SGD"][:, 1]) == 1.0  # across the valley on every step
    y = np.abs(r.paths["AdaGrad"][:, 1])
    assert sign_flips(r.paths["AdaGrad"][:, 1]) == 0 and np.all(np.diff(y) <= 0)
    assert r.final_value["AdaGrad"] < r.final_value["SGD"] / 10
    # Every optimizer gets far below the start f(-7, 2) = 6.45.
    assert max(r.final_value.values()) < 0.2


def test_saddle_adaptive_methods_escape(tmp_path):
    r = ex.saddle(out=tmp_path)
    assert_png(r.figure)
    assert r.escape_step["SGD"] is None and r.escape_step["Momentum"] is None
    for name in ("AdaGrad", "RMSProp", "Adam"):
        assert r.escape_step[name] is not None and r.escape_step[name] <= 20
    # Exactly on the ridge the gradient has no y component: nobody escapes.
    on_ridge = ex.saddle(start=(1.0, 0.0))
    assert all(step is None for step in on_ridge.escape_step.values())


def test_learning_rate_10_diverges_1e6_barely_moves(tmp_path):
    r = ex.learning_rate(iterations=60, hidden=(50, 50), out=tmp_path)
    assert_png(r.figure)
    assert r.diverged[10.0] and r.peak[10.0] > 1e3 * r.initial_loss
    assert not r.diverged[0.1] and r.final_loss(0.1) < 0.6 * r.initial_loss
    assert not r.diverged[1e-6]
    assert abs(r.final_loss(1e-6) - r.initial_loss) < 0.03 * r.initial_loss


def test_optimizers_adam_and_adagrad_end_below_sgd(tmp_path):
    r = ex.optimizers(iterations=200, hidden=(50,) * 4, out=tmp_path)
    assert_png(r.figure)
    assert r.loss["SGD"].shape == (200,)
    sgd = r.final_loss("SGD", 30)
    assert r.final_loss("Adam", 30) < 0.7 * sgd
    assert r.final_loss("AdaGrad", 30) < 0.7 * sgd
    assert r.test_accuracy["Adam"] > r.test_accuracy["SGD"]
    assert all(v > 0 for v in r.ms_per_step.values())
    assert all(r.ms_per_update[k] < r.ms_per_step[k] for k in r.ms_per_step)


def test_optimizers_same_start_and_float32():
    r = ex.optimizers(iterations=3, hidden=(20,), names=("SGD", "Adam"), dtype=np.float32)
    # Same weights and first batch: the first loss is the same for every optimizer.
    assert r.loss["SGD"][0] == r.loss["Adam"][0]
    assert r.loss["Adam"][-1] != r.loss["SGD"][-1]


def test_optimizers_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown optimizer 'AdamW'; choose from SGD"):
        ex.optimizers(iterations=1, names=("SGD", "AdamW"))


def test_activations_claims(tmp_path):
    r = ex.activations(samples=500, out=tmp_path)
    assert_png(r.figure)
    sd1 = r.layer("sigmoid, sd 1", 5)
    assert np.mean((sd1 < 0.1) | (sd1 > 0.9)) > 0.5           # saturated at 0 and 1
    small = r.layer("sigmoid, sd 0.01", 5)
    assert np.mean(np.abs(small - 0.5) < 0.05) > 0.95           # all squeezed around 0.5
    xavier = r.layer("sigmoid, sd 1/√n (Xavier)", 5)
    assert np.mean((xavier < 0.1) | (xavier > 0.9)) < 0.05 and xavier.std() > 5 * small.std()
    relu = lambda label, i: r.layer(label, i).std()  # noqa: E731
    assert relu("ReLU, sd 0.01", 5) < 1e-4 * relu("ReLU, sd 0.01", 1)   # vanishes
    assert relu("ReLU, sd √(2/n) (He)", 5) > 0.5 * relu("ReLU, sd √(2/n) (He)", 1)  # alive
    assert relu("ReLU, sd 1/√n (Xavier)", 5) < 0.4 * relu("ReLU, sd 1/√n (Xavier)", 1)
    # docs/lecture.md: per layer, sd 0.01 shrinks ~14x (√200) and 1/√n ~√2 (100-unit layers).
    shrink = lambda label: (relu(label, 1) / relu(label, 5)) ** 0.25  # noqa: E731
    assert 12 < shrink("ReLU, sd 0.01") < 17
    assert 1.2 < shrink("ReLU, sd 1/√n (Xavier)") < 1.7
    assert np.mean(r.layer("ReLU, sd √(2/n) (He)", 5) > 0) > 0.3


def test_zero_init_keeps_units_identical(tmp_path):
    r = ex.zero_init(iterations=100, out=tmp_path)
    assert_png(r.figure)
    # Exactly 0 where the BLAS computes every column of a matmul alike. OpenBLAS's
    # AVX-512 (SkylakeX) dgemm does not: X @ W with 20 equal columns differs by
    # ~1e-14 between columns (its Haswell kernel gives 0), which leaves ~1e-18.
    assert np.all(r.spread["zeros"] < 1e-12)
    assert np.all(r.spread["Xavier (1/√n)"] > 0.1)
    assert r.test_accuracy["zeros"] < r.test_accuracy["Xavier (1/√n)"]


def test_initializers_small_sd_stalls_he_learns(tmp_path):
    r = ex.initializers(iterations=250, out=tmp_path)
    assert_png(r.figure)
    labels = ("std 0.01", "Xavier (1/√n)", "He (√(2/n))")
    small, xavier, he = (r.final_loss(k, 30) for k in labels)
    assert small > 0.97 * np.log(10)   # still at chance
    assert he < xavier < small and he < 0.6 * np.log(10)


def test_batchnorm_learns_faster_at_most_scales(tmp_path):
    r = ex.batchnorm(n_scales=6, epochs=5, n_train=500, batch_size=20, out=tmp_path)
    assert_png(r.figure)
    np.testing.assert_allclose(r.scales, np.logspace(0, -4, 6))
    assert r.with_bn.shape == r.without_bn.shape == (6, 6)
    # Ahead by 10+ points of mean accuracy at 4 of 6 scales (the plain network
    # learns only near sd 0.16), and never clearly behind.
    assert r.bn_wins(tol=0.1).sum() >= 4
    assert np.all(r.with_bn[:, 1:].mean(axis=1) > r.without_bn[:, 1:].mean(axis=1) - 0.05)


def test_overfitting_remedies_narrow_the_gap(tmp_path):
    # The book's full setting (about 5 s): at reduced sizes the digits' small
    # accuracy gap is too noisy to compare.
    r = ex.overfitting(out=tmp_path)
    assert_png(r.figure)
    assert r.n_train == 300 and len(r.train_accuracy["plain"]) == 302
    assert r.train_accuracy["plain"][-1] == 1.0                   # memorized
    assert r.train_loss["plain"][-1] < 0.2 * r.test_loss["plain"][-1]
    for label in ("dropout 0.2", "weight decay 0.1"):
        assert r.gap(label) < 0.8 * r.gap("plain")
        assert r.loss_gap(label) < 0.6 * r.loss_gap("plain")


class InlineExecutor(cf.Executor):
    def submit(self, fn, *args, **kwargs):
        f = cf.Future()
        f.set_result(fn(*args, **kwargs))
        return f


TINY_TUNING = dict(trials=12, epochs=30, n_samples=200, hidden=(50, 50), batch_size=10)


def test_tuning_deterministic_across_executors_and_lr_matters(tmp_path):
    with cf.ThreadPoolExecutor(2) as pool:
        r = ex.tuning(executor=pool, out=tmp_path, show_best=4, **TINY_TUNING)
    assert_png(r.figure)
    assert r.val_accuracy.shape == (12, 31)
    assert np.all((1e-6 <= r.lr) & (r.lr <= 1e-2))
    assert np.all((1e-8 <= r.weight_decay) & (r.weight_decay <= 1e-4))
    inline = ex.tuning(executor=InlineExecutor(), **TINY_TUNING)
    np.testing.assert_array_equal(inline.val_accuracy, r.val_accuracy)
    np.testing.assert_array_equal(inline.lr, r.lr)
    # The learning rate decides: every trial with lr > 1e-3 beats every trial
    # with lr < 1e-4 (which barely learn), whatever their weight decay.
    high, low = r.final_val[r.lr > 1e-3], r.final_val[r.lr < 1e-4]
    assert len(high) and len(low)
    assert high.min() > low.max() and high.mean() > low.mean() + 0.1
    assert r.lr[r.ranking()[0]] > 1e-3
    other = ex.tuning(executor=InlineExecutor(), seed=1, **TINY_TUNING)
    assert not np.array_equal(other.lr, r.lr)


def test_tuning_default_process_pool():
    tiny = {**TINY_TUNING, "trials": 2, "epochs": 1}
    r = ex.tuning(**tiny)
    inline = ex.tuning(executor=InlineExecutor(), **tiny)
    np.testing.assert_array_equal(r.val_accuracy, inline.val_accuracy)


def test_python_only_arguments_are_checked():
    with pytest.raises(TypeError, match=r"executor must be a concurrent.futures.Executor"):
        ex.tuning(executor=3, **TINY_TUNING)
    with pytest.raises(TypeError, match=r"progress must be a function"):
        ex.optimizers(iterations=1, progress=3, out=None)



def test_figure_titles_follow_the_arguments(monkeypatch, tmp_path):
    # The titles carry the run's own start point and depth, not the defaults'.
    import importlib

    titles = []

    def capture(fig, out, name):
        titles.append(fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title())
        return None

    for mod in ("trajectories", "initialization", "optimizers"):
        monkeypatch.setattr(importlib.import_module(f"fastoptim.experiments.{mod}"), "save",
                            capture)
    ex.saddle(start=(0.5, 0.01), steps=3, out=tmp_path)
    ex.initializers(iterations=2, hidden=(20, 20), out=tmp_path)
    ex.optimizers(iterations=2, hidden=(20,), names=("SGD",), out=tmp_path)
    assert "started at (0.5, 0.01)" in titles[0]
    assert "3-layer ReLU MLP" in titles[1]
    assert "a 2-layer MLP" in titles[2]


# --- Argument checks: every bad argument is refused, naming it, before any work. ---

class WorkStarted(Exception):
    """Raised by the guard below: the experiment got past its checks."""


_MODULES = ("trajectories", "learning_rate", "optimizers", "activations", "initialization",
            "batchnorm", "overfitting", "tuning")
#: Each experiment's first steps of real work (data, randomness, networks, files).
_WORK = ("load", "_split", "rng_from", "seed_pair", "_run_paths", "make_optimizer", "MLP",
         "train_iterations", "train_epochs", "new_figure", "save")


@pytest.fixture
def no_work(monkeypatch):
    """Any step of real work raises WorkStarted: a refusal must come before it."""
    import importlib

    def refuse(*args, **kwargs):
        raise WorkStarted

    for mod_name in _MODULES:
        mod = importlib.import_module(f"fastoptim.experiments.{mod_name}")
        for attr in _WORK:
            if hasattr(mod, attr):
                monkeypatch.setattr(mod, attr, refuse)


@pytest.mark.parametrize("name, kwargs", [
    ("trajectories", {}), ("saddle", dict(steps=np.int64(3), start=np.array([1.0, 2.0]))),
    ("learning_rate", dict(rates=[1, 0.5], hidden=[], batch_size=np.int32(4))),
    ("optimizers", dict(names=["Adam"], lr={"Adam": 1}, dtype="float32", hidden=np.array([5]))),
    ("activations", dict(configs=[("a", "relu", 0), ("b", "tanh", "He")], bins=1)),
    ("zero_init", dict(hidden=(1,), activation="tanh")),
    ("initializers", dict(choices={"x": 0.5, "y": "zeros"}, lr=1)),
    ("batchnorm", dict(scales=[1], n_train=2, batch_size=2)),
    ("overfitting", dict(regularizers={"p": {}, "d": {"dropout": 0, "weight_decay": 0}},
                         optimizer="Adam", n_train=1, epochs=1)),
    ("tuning", dict(n_samples=2, val_fraction=0.5, show_best=0, lr_range=[-3, -2.5])),
])
def test_valid_arguments_pass_the_checks(name, kwargs, no_work, tmp_path):
    # The positive control of the refusals below: these reach the work.
    with pytest.raises(WorkStarted):
        ex.EXPERIMENTS[name](out=tmp_path / "new" / "folder", seed=np.int64(1), **kwargs)


_INT_ARGS = {
    "trajectories": ["steps"], "saddle": ["steps"],
    "learning_rate": ["iterations", "batch_size"], "optimizers": ["iterations", "batch_size"],
    "activations": ["samples", "units", "layers", "bins"],
    "zero_init": ["iterations", "batch_size"], "initializers": ["iterations", "batch_size"],
    "batchnorm": ["n_train", "n_scales", "epochs", "batch_size"],
    "overfitting": ["n_train", "epochs", "batch_size"],
    "tuning": ["trials", "n_samples", "epochs", "batch_size"],
}


@pytest.mark.parametrize("name, arg", [(n, a) for n, args in _INT_ARGS.items() for a in args])
def test_int_arguments_refused(name, arg, no_work):
    run = ex.EXPERIMENTS[name]
    low = 2 if (name, arg) in {("batchnorm", "n_train"), ("batchnorm", "batch_size"),
                               ("tuning", "n_samples")} else 1
    for bad in (low - 1, -5):
        with pytest.raises(ValueError, match=rf"^{arg} must be (a positive int|an int >= 2), "
                                             rf"got {bad}$"):
            run(**{arg: bad})
    for bad, shown in ((2.0, "float 2.0"), (1e2, "float 100.0"), ("abc", "str 'abc'"),
                       (True, "bool True"), (None, "NoneType None"), ((3,), "tuple (3,)")):
        with pytest.raises(TypeError, match=rf"^{arg} must be .*int.*, got {re.escape(shown)}$"):
            run(**{arg: bad})


_HIDDEN = ["learning_rate", "optimizers", "zero_init", "initializers", "batchnorm",
           "overfitting", "tuning"]


@pytest.mark.parametrize("name", _HIDDEN)
@pytest.mark.parametrize("bad, error, words", [
    (100, TypeError, "hidden must be a sequence of positive ints (units per hidden layer), "
                     "e.g. hidden=(100, 100), got int 100"),
    ("100", TypeError, "hidden must be a sequence of positive ints"),
    ({100: 1}, TypeError, "hidden must be a sequence of positive ints"),
    (np.ones((2, 2), int), TypeError, "hidden must be a sequence of positive ints (units per "
                                      "hidden layer), got a 2-D array"),
    ((100, 0), ValueError, "hidden[1] must be a positive int, got 0"),
    ([100, 2.5], TypeError, "hidden[1] must be a positive int, got float 2.5"),
])
def test_hidden_refused(name, bad, error, words, no_work):
    with pytest.raises(error) as e:
        ex.EXPERIMENTS[name](hidden=bad)
    assert words in str(e.value) and isinstance(e.value, UsageError)


@pytest.mark.parametrize("name", ["zero_init", "batchnorm"])
def test_hidden_needs_a_layer(name, no_work):
    with pytest.raises(ValueError, match=r"hidden must have at least 1 layer"):
        ex.EXPERIMENTS[name](hidden=())


@pytest.mark.parametrize("name", ["zero_init", "initializers", "batchnorm", "overfitting"])
@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-0.1, ValueError), (float("inf"), ValueError), (float("nan"), ValueError),
    ("0.1", TypeError), (True, TypeError), ({"SGD": 0.1}, TypeError)])
def test_float_lr_refused(name, bad, error, no_work):
    with pytest.raises(error, match=r"^lr must be a positive finite number, got "):
        ex.EXPERIMENTS[name](lr=bad)


@pytest.mark.parametrize("name", ["trajectories", "saddle", "optimizers"])
@pytest.mark.parametrize("bad, error, words", [
    (0.1, TypeError, "lr must be a dict of optimizer name to learning rate, e.g. {'SGD': 0.1}, "
                     "got float 0.1"),
    ([("SGD", 0.1)], TypeError, "lr must be a dict of optimizer name to learning rate"),
    ({}, ValueError, "lr must not be empty"),
    ({"adam": 0.1}, ValueError, "lr: unknown optimizer 'adam'; choose from SGD"),
    ({1: 0.1}, TypeError, "lr must be a dict of optimizer name to learning rate"),
    ({"SGD": 0}, ValueError, "lr['SGD'] must be a positive finite number, got 0"),
    ({"Adam": float("nan")}, ValueError, "lr['Adam'] must be a positive finite number, got nan"),
    ({"SGD": "0.1"}, TypeError, "lr['SGD'] must be a positive finite number, got str '0.1'"),
])
def test_optimizer_lr_dict_refused(name, bad, error, words, no_work):
    with pytest.raises(error) as e:
        ex.EXPERIMENTS[name](lr=bad)
    assert words in str(e.value) and isinstance(e.value, UsageError)


_ALL = list(ex.EXPERIMENTS)
_WITH_DATA = [n for n in _ALL if n not in ("trajectories", "saddle", "activations")]


@pytest.mark.parametrize("name", _ALL)
def test_seed_refused(name, no_work):
    run = ex.EXPERIMENTS[name]
    with pytest.raises(ValueError, match=r"^seed must be an int >= 0, .*got -1$"):
        run(seed=-1)
    for bad in (1.5, "0", True):
        with pytest.raises(TypeError, match=r"^seed must be an int >= 0"):
            run(seed=bad)


@pytest.mark.parametrize("name", _WITH_DATA)
def test_data_refused(name, no_work):
    with pytest.raises(TypeError, match=r"^data must be a folder of MNIST IDX files .*got int 3"):
        ex.EXPERIMENTS[name](data=3)


@pytest.mark.parametrize("name", _ALL)
def test_out_that_is_a_file_refused_before_any_work(name, no_work, tmp_path):
    run = ex.EXPERIMENTS[name]
    afile = tmp_path / "afile"
    afile.write_text("keep")
    for out in (afile, str(afile), afile / "sub"):
        with pytest.raises(ValueError, match=r"^out must be a folder for the figure, but .*afile"):
            run(out=out)
    with pytest.raises(TypeError, match=r"^out must be a folder for the figure"):
        run(out=3)
    assert afile.read_text() == "keep" and [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_out_file_refused_without_the_guard(tmp_path):
    # Without no_work: the real experiment stops before it computes (a full
    # tuning run takes minutes; refused, it takes no time).
    afile = tmp_path / "afile"
    afile.write_text("")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="exists and is not a directory"):
        ex.tuning(out=afile)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("name, kwargs, error, words", [
    # trajectories, saddle
    *[(n, kw, err, w) for n in ("trajectories", "saddle") for kw, err, w in [
        (dict(start=(1,)), TypeError, "start must be a pair of numbers (x, y), got tuple (1,)"),
        (dict(start="ab"), TypeError, "start must be a pair of numbers (x, y), got str 'ab'"),
        (dict(start=3), TypeError, "start must be a pair of numbers"),
        (dict(start=(1, float("nan"))), ValueError, "start[1] must be a finite number, got nan"),
        (dict(start=(1, "a")), TypeError, "start[1] must be a finite number, got str 'a'"),
    ]],
    # learning_rate
    ("learning_rate", dict(rates=0.1), TypeError,
     "rates must be a sequence of positive numbers, e.g. rates=(0.1, 0.01), got float 0.1"),
    ("learning_rate", dict(rates=()), ValueError, "rates must not be empty"),
    ("learning_rate", dict(rates=(0.1, 0)), ValueError,
     "rates[1] must be a positive finite number, got 0"),
    ("learning_rate", dict(rates=(1, 1.0)), ValueError, "rates must not repeat a value"),
    # optimizers
    ("optimizers", dict(names="Adam"), TypeError,
     "names must be a sequence of optimizer names, e.g. names=['Adam'], got str 'Adam'"),
    ("optimizers", dict(names=()), ValueError, "names must name at least one optimizer"),
    ("optimizers", dict(names=("SGD", "AdamW")), ValueError,
     "names: unknown optimizer 'AdamW'; choose from SGD"),
    ("optimizers", dict(names=("SGD", 1)), TypeError, "names[1] must be an optimizer name"),
    ("optimizers", dict(names=("SGD", "SGD")), ValueError, "names must not repeat an optimizer"),
    ("optimizers", dict(names=("SGD",), lr={"SGD": 0.1, "Adam": 0.01}), ValueError,
     "lr sets a rate for 'Adam', not among names (SGD); add it to names or leave it out"),
    ("optimizers", dict(lr={"AdaGrad": 0.1, "Momentum": 0.1}, names=("Adam",)), ValueError,
     "lr sets a rate for 'AdaGrad', 'Momentum', not among names (Adam)"),
    ("optimizers", dict(dtype="float16"), TypeError, "dtype must be float32 or float64, got "
                                                     "float16"),
    ("optimizers", dict(dtype=np.int32), TypeError, "dtype must be float32 or float64, got int32"),
    ("optimizers", dict(dtype="nonsense"), TypeError,
     "dtype must be float32 or float64, got 'nonsense'"),
    ("optimizers", dict(dtype=None), TypeError, "dtype must be float32 or float64, got None"),
    # activations
    ("activations", dict(configs=()), ValueError, "configs must not be empty"),
    ("activations", dict(configs=("a", "relu", 1.0)), TypeError,
     "configs[0] must be a triple (label, activation, weight sd)"),
    ("activations", dict(configs=[("a", "relu")]), TypeError,
     "configs[0] must be a triple (label, activation, weight sd)"),
    ("activations", dict(configs=[(1, "relu", 1.0)]), TypeError,
     "configs[0][0] (the label) must be a str, got int 1"),
    ("activations", dict(configs=[("a", "elu", 1.0)]), ValueError,
     "configs[0][1] (the activation) must be one of sigmoid, tanh, relu, got 'elu'"),
    ("activations", dict(configs=[("a", "relu", -1.0)]), ValueError,
     "configs[0][2] (the weight sd) must be an initializer name"),
    ("activations", dict(configs=[("a", "relu", "glorot")]), ValueError,
     "configs[0][2] (the weight sd) must be one of he, lecun, xavier, zeros"),
    ("activations", dict(configs=[("a", "relu", 1.0), ("a", "tanh", "he")]), ValueError,
     "configs must not repeat a label"),
    # zero_init
    ("zero_init", dict(activation="elu"), ValueError,
     "activation must be one of relu, sigmoid, tanh, got 'elu'"),
    ("zero_init", dict(activation=1), TypeError, "activation must be one of"),
    # initializers
    ("initializers", dict(choices={}), ValueError, "choices must not be empty"),
    ("initializers", dict(choices=["he"]), TypeError,
     "choices must be a dict of label to initializer"),
    ("initializers", dict(choices={1: "he"}), TypeError, "choices must be a dict of label"),
    ("initializers", dict(choices={"x": "glorot"}), ValueError,
     "choices['x'] must be one of he, lecun, xavier, zeros or a standard deviation >= 0"),
    ("initializers", dict(choices={"x": -0.1}), ValueError, "choices['x'] must be"),
    ("initializers", dict(choices={"x": None}), TypeError, "choices['x'] must be"),
    # batchnorm
    ("batchnorm", dict(scales=0.5), TypeError, "scales must be a sequence of positive numbers"),
    ("batchnorm", dict(scales=[]), ValueError, "scales must not be empty"),
    ("batchnorm", dict(scales=[0.1, 0]), ValueError,
     "scales[1] must be a positive finite number, got 0"),
    ("batchnorm", dict(scales=[0.1, float("inf")]), ValueError, "scales[1] must be a positive"),
    # overfitting
    ("overfitting", dict(regularizers={}), ValueError, "regularizers must not be empty"),
    ("overfitting", dict(regularizers=[("plain", {})]), TypeError,
     "regularizers must be a dict of label to MLP keyword arguments"),
    ("overfitting", dict(regularizers={"x": 0.1}), TypeError,
     "regularizers['x'] must be a dict of MLP keyword arguments"),
    ("overfitting", dict(regularizers={"x": {"init": "he"}}), ValueError,
     "regularizers['x'] may set dropout, weight_decay, batch_norm, activation, not 'init'"),
    ("overfitting", dict(regularizers={"x": {"batch_norm": 1}}), TypeError,
     "regularizers['x']['batch_norm'] must be True or False"),
    ("overfitting", dict(regularizers={"x": {"activation": "gelu"}}), ValueError,
     "regularizers['x']['activation'] must be one of"),
    ("overfitting", dict(regularizers={"x": {"dropout": 1}}), ValueError,
     "regularizers['x']['dropout'] must be a ratio in [0, 1), got 1"),
    ("overfitting", dict(regularizers={"x": {"weight_decay": -1}}), ValueError,
     "regularizers['x']['weight_decay'] must be a number >= 0, got -1"),
    ("overfitting", dict(regularizers={"x": {"weight_decay": "a"}}), TypeError,
     "regularizers['x']['weight_decay'] must be a number >= 0, got str 'a'"),
    ("overfitting", dict(optimizer="adam"), ValueError,
     "optimizer: unknown optimizer 'adam'; choose from SGD"),
    ("overfitting", dict(optimizer=["SGD"]), TypeError, "optimizer must be an optimizer name"),
    # tuning
    ("tuning", dict(val_fraction=0), ValueError, "val_fraction must be in (0, 1), got 0"),
    ("tuning", dict(val_fraction=1.0), ValueError, "val_fraction must be in (0, 1), got 1.0"),
    ("tuning", dict(val_fraction="a"), TypeError, "val_fraction must be a number in (0, 1)"),
    ("tuning", dict(n_samples=2, val_fraction=0.2), ValueError,
     "n_samples=2 with val_fraction=0.2 gives 0 validation and 2 training samples"),
    ("tuning", dict(n_samples=10, val_fraction=0.99), ValueError,
     "n_samples=10 with val_fraction=0.99 gives 10 validation and 0 training samples"),
    ("tuning", dict(lr_range=(-2, -6)), ValueError, "lr_range must be a pair (lo, hi) with lo <= hi"),
    ("tuning", dict(lr_range=(-2, -2.5)), ValueError, "lr_range must be a pair (lo, hi) with lo <="),
    ("tuning", dict(lr_range=(10**400, 1)), ValueError,
     "lr_range[0] must be a finite number, got an int too large for a float"),
    ("tuning", dict(n_samples=10**400), ValueError, "n_samples must be at most 2**62"),
    ("trajectories", dict(lr={"SGD": 10**400}), ValueError, "an int too large for a float"),
    ("tuning", dict(lr_range=-2), TypeError, "lr_range must be a pair of numbers (lo, hi)"),
    ("tuning", dict(lr_range=(1, 400)), ValueError,
     "lr_range is a pair of powers of 10 within [-300, 300], got (1, 400)"),
    ("tuning", dict(weight_decay_range=(-400, -4)), ValueError,
     "weight_decay_range is a pair of powers of 10 within [-300, 300]"),
    ("tuning", dict(weight_decay_range=(float("nan"), 1)), ValueError,
     "weight_decay_range[0] must be a finite number, got nan"),
    ("tuning", dict(weight_decay_range=(-8, -4, 0)), TypeError,
     "weight_decay_range must be a pair of numbers (lo, hi)"),
    ("tuning", dict(show_best=-1), ValueError, "show_best must be a non-negative int, got -1"),
    ("tuning", dict(show_best=2.0), TypeError, "show_best must be a non-negative int"),
])
def test_experiment_specific_arguments_refused(name, kwargs, error, words, no_work):
    with pytest.raises(error) as e:
        ex.EXPERIMENTS[name](**kwargs)
    assert words in str(e.value)
    assert isinstance(e.value, UsageError)  # what the CLI prints as one line


@pytest.mark.parametrize("n_train,refused", [(201, True), (1438, False)])
def test_batchnorm_last_batch_checked(monkeypatch, n_train, refused):
    # n_train=201 leaves a last batch of 1; all 1438 training samples of the
    # digits (1438 = 14 * 100 + 38) do not.
    import importlib

    def refuse(*args, **kwargs):
        raise WorkStarted

    monkeypatch.setattr(importlib.import_module("fastoptim.experiments.batchnorm"), "MLP", refuse)
    if refused:
        with pytest.raises(ValueError, match="n_train=201 samples in batches of batch_size=100 "
                                             "leave a last batch of 1 sample"):
            ex.batchnorm(n_train=n_train, batch_size=100)
    else:
        with pytest.raises(WorkStarted):
            ex.batchnorm(n_train=n_train, batch_size=100)


def test_overfitting_takes_batch_norm_and_activation(tmp_path):
    r = ex.overfitting(n_train=100, epochs=2, batch_size=50, hidden=(10,),
                       regularizers={"bn tanh": {"batch_norm": True, "activation": "tanh"}})
    assert len(r.train_accuracy["bn tanh"]) == 3
    with pytest.raises(ValueError, match="n_train=101 samples in batches of batch_size=50 "
                                         "leave a last batch of 1"):
        ex.overfitting(n_train=101, epochs=1, batch_size=50, hidden=(10,),
                       regularizers={"bn": {"batch_norm": True}})


@pytest.mark.parametrize("name, arg", [("batchnorm", "n_train"), ("overfitting", "n_train"),
                                       ("tuning", "n_samples")])
def test_more_samples_than_the_data_refused_before_training(monkeypatch, name, arg):
    # The digits have 1438 training samples: asking for more is refused (it
    # used to train on fewer than asked), after loading and before any work.
    import importlib

    def refuse(*args, **kwargs):
        raise WorkStarted

    mod = importlib.import_module(f"fastoptim.experiments.{name}")
    monkeypatch.setattr(mod, "MLP", refuse)
    monkeypatch.setattr(mod, "rng_from" if hasattr(mod, "rng_from") else "seed_pair", refuse)
    with pytest.raises(ValueError, match=rf"^{arg}=1439 is more than the 1438 training samples "
                                         rf"of digits; pass {arg}=1438 at most$") as e:
        ex.EXPERIMENTS[name](**{arg: 1439})
    assert isinstance(e.value, UsageError)
    with pytest.raises(WorkStarted):
        ex.EXPERIMENTS[name](**{arg: 1438})
