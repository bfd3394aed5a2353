"""Each experiment at reduced size: the lecture's claim, checked on the numbers."""

import concurrent.futures as cf

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from fastoptim import experiments as ex  # noqa: E402


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
    np.testing.assert_array_equal(r.spread["zeros"], 0)
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
