"""Every layer of fastoptim.nn checked against central differences (float64)."""

import numpy as np
import pytest

from fastoptim import nn


def numerical_grad(f, a, h=1e-6):
    """Central differences of the scalar f() with respect to array a (in place)."""
    g = np.zeros_like(a)
    flat, gflat = a.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = f()
        flat[i] = old - h
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return g


def assert_close(analytic, numeric, tol=1e-6):
    err = np.max(np.abs(analytic - numeric)) / max(1.0, np.max(np.abs(numeric)))
    assert err < tol, f"relative error {err:.3g}"


def check_layer(make_layer, x, params=(), train=True, seed=0):
    """Compare backward() of a fresh layer with central differences of a random
    linear functional sum(w * forward(x))."""
    w = np.random.default_rng(seed + 1).standard_normal(make_layer().forward(x, train).shape)

    def f():
        return float(np.sum(w * make_layer().forward(x, train)))

    layer = make_layer()
    layer.forward(x, train)
    dx = layer.backward(w)
    assert dx.shape == x.shape
    assert_close(dx, numerical_grad(f, x))
    for array, grad_attr in params:
        assert_close(getattr(layer, grad_attr), numerical_grad(f, array))
    return layer


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_linear_gradients(rng):
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    x = rng.standard_normal((4, 5))
    check_layer(lambda: nn.Linear(W, b), x, params=[(W, "dW"), (b, "db")])


def test_linear_forward_is_x_at_W_plus_b(rng):
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(nn.Linear(W, b).forward(x), x @ W + b)
    np.testing.assert_allclose(nn.Linear(W).forward(x), x @ W)


def test_linear_rejects_bad_shapes():
    with pytest.raises(ValueError, match="W must be 2-D"):
        nn.Linear(np.zeros(3))
    with pytest.raises(ValueError, match=r"b must have shape \(2,\)"):
        nn.Linear(np.zeros((3, 2)), np.zeros(3))


@pytest.mark.parametrize("cls", [nn.ReLU, nn.Sigmoid, nn.Tanh])
def test_activation_gradients(cls, rng):
    x = rng.standard_normal((6, 7))
    x[np.abs(x) < 1e-3] = 0.5  # keep ReLU's kink out of the difference stencil
    check_layer(cls, x)


def test_activation_values():
    x = np.array([[-800.0, -1.0, 0.0, 1.0, 800.0]])
    np.testing.assert_array_equal(nn.ReLU().forward(x), [[0, 0, 0, 1, 800]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = nn.Sigmoid().forward(x)
    np.testing.assert_allclose(s, [[0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1]])
    np.testing.assert_allclose(nn.Tanh().forward(x), np.tanh(x))


def test_relu_keeps_nan_as_torch_does():
    # A NaN weight must not turn into a finite loss (the learning-rate
    # experiment's divergence check reads it).
    x = np.array([[np.nan, -1.0, 2.0]], np.float32)
    y = nn.ReLU().forward(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [[np.nan, 0, 2]])


def test_dropout_refuses_integer_input():
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        nn.Dropout(0.5, seed=0).forward(np.ones((2, 3), np.int64))


def test_batchnorm_train_gradients(rng):
    gamma, beta = rng.standard_normal(4) + 1, rng.standard_normal(4)
    x = rng.standard_normal((8, 4)) * 3 + 2
    check_layer(lambda: nn.BatchNorm(gamma, beta), x,
                params=[(gamma, "dgamma"), (beta, "dbeta")])


def test_batchnorm_eval_gradients(rng):
    gamma, beta = rng.standard_normal(4) + 1, rng.standard_normal(4)
    x = rng.standard_normal((8, 4))

    def make():
        bn = nn.BatchNorm(gamma, beta)
        bn.running_mean[:] = [0.5, -1, 0, 2]
        bn.running_var[:] = [1, 4, 0.25, 9]
        return bn

    w = rng.standard_normal(x.shape)
    bn = make()
    y = bn.forward(x, train=False)
    np.testing.assert_allclose(
        y, gamma * (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) + beta)
    # Evaluation mode is affine per feature: dy/dx = gamma / sqrt(var + eps).
    numeric = numerical_grad(lambda: float(np.sum(w * make().forward(x, train=False))), x)
    assert_close(numeric, w * gamma / np.sqrt(bn.running_var + bn.eps))
    # backward() after an evaluation forward is that affine map's gradient
    # (it used to reuse the last training batch's statistics).
    check_layer(make, x, params=[(gamma, "dgamma"), (beta, "dbeta")], train=False)


def test_batchnorm_backward_before_forward_is_refused():
    bn = nn.BatchNorm(np.ones(3), np.zeros(3))
    with pytest.raises(RuntimeError, match="before forward"):
        bn.backward(np.ones((2, 3)))


def test_batchnorm_refuses_one_sample_batches_and_bad_shapes():
    bn = nn.BatchNorm(np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="more than 1 sample"):
        bn.forward(np.ones((1, 3)))
    np.testing.assert_array_equal(bn.running_mean, 0)   # nothing half-updated
    np.testing.assert_array_equal(bn.running_var, 0)
    bn.forward(np.ones((1, 3)), train=False)            # evaluation takes any batch
    for shape in [(4, 2), (4,), (2, 3, 1)]:
        with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\)"):
            bn.forward(np.ones(shape))


def test_batchnorm_running_stats_follow_the_book():
    # The course book's layer: running statistics start at 0 and move by
    # 1 - momentum toward the batch's mean and biased variance.
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
    bn = nn.BatchNorm(np.ones(2), np.zeros(2), momentum=0.9)
    np.testing.assert_array_equal(bn.running_var, 0)
    bn.forward(x)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn.running_var, 0.1 * x.var(axis=0))
    bn.forward(x)
    np.testing.assert_allclose(bn.running_var, (0.9 * 0.1 + 0.1) * x.var(axis=0))


def test_batchnorm_normalizes_and_tracks_running_stats(rng):
    x = rng.standard_normal((500, 3)) * [1, 5, 0.1] + [3, -2, 0]
    bn = nn.BatchNorm(np.ones(3), np.zeros(3), momentum=0.0)
    y = bn.forward(x, train=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-3)
    np.testing.assert_allclose(bn.running_mean, x.mean(axis=0))
    np.testing.assert_allclose(bn.running_var, x.var(axis=0))
    np.testing.assert_allclose(bn.forward(x, train=False), y, atol=1e-12)


def test_dropout_gradients_with_fixed_mask(rng):
    x = rng.standard_normal((10, 6))
    # Same int seed -> every fresh layer draws the same mask.
    layer = check_layer(lambda: nn.Dropout(0.3, seed=7), x)
    kept = layer.mask != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(layer.mask[kept], 1 / 0.7)


def test_dropout_eval_is_identity_and_train_keeps_mean(rng):
    x = rng.standard_normal((2000, 50)) + 1
    d = nn.Dropout(0.2, seed=0)
    assert d.forward(x, train=False) is x
    y = d.forward(x, train=True)
    assert abs((y == 0).mean() - 0.2) < 0.01
    assert abs(y.mean() - x.mean()) < 0.02
    with pytest.raises(ValueError, match="ratio"):
        nn.Dropout(1.0)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_cross_entropy_gradient(one_hot, rng):
    x = rng.standard_normal((5, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2])
    t = np.eye(4)[labels] if one_hot else labels
    ce = nn.SoftmaxCrossEntropy()
    loss = ce.forward(x, t)
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(5), labels])))
    assert_close(ce.backward(), numerical_grad(lambda: nn.SoftmaxCrossEntropy().forward(x, t), x))


def test_softmax_is_stable_for_large_scores():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = nn.softmax(np.array([[1000.0, 0.0], [-1000.0, 0.0]]))
    np.testing.assert_allclose(p, [[1, 0], [0, 1]])


# --- MLP --------------------------------------------------------------------

def _data(rng, n=6, d=5, c=3):
    return rng.standard_normal((n, d)), rng.integers(0, c, n)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_mlp_gradient_matches_numerical(activation, batch_norm, weight_decay, rng):
    net = nn.MLP(5, [4, 4], 3, activation=activation, init="lecun",
                 batch_norm=batch_norm, weight_decay=weight_decay, seed=3)
    for key, p in net.params.items():
        # Nonzero biases keep pre-activations off ReLU's kink at exactly 0 (a
        # sample whose previous layer is all zeros would otherwise sit on it).
        if key[0] in "b":
            p[...] = rng.uniform(0.1, 0.3, p.shape)
    x, t = _data(rng)
    grads = net.gradient(x, t)
    assert grads is net.grads and set(grads) == set(net.params)
    for key, p in net.params.items():
        assert_close(grads[key], numerical_grad(lambda: net.loss(x, t), p), tol=1e-5)


def test_mlp_params_are_keyed_and_shared_with_layers():
    net = nn.MLP(5, [4, 3], 2, batch_norm=True, init=0.1, seed=0)
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2",
                                "gamma2", "beta2", "W3", "b3"]
    assert [net.params[f"W{i}"].shape for i in (1, 2, 3)] == [(5, 4), (4, 3), (3, 2)]
    assert net.layers[0].W is net.params["W1"]
    x, t = _data(np.random.default_rng(0))
    before = net.predict(x).copy()
    net.params["W1"] *= 2  # in-place change must reach the layers
    assert not np.allclose(net.predict(x), before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_dtype(dtype):
    net = nn.MLP(5, [4], 3, dtype=dtype, seed=0)
    x, t = _data(np.random.default_rng(0))
    grads = net.gradient(x, t)
    assert all(a.dtype == dtype for a in net.params.values())
    assert all(g.dtype == dtype for g in grads.values())
    assert all(a.flags.c_contiguous for a in [*net.params.values(), *grads.values()])
    assert net.predict(x).dtype == dtype


@pytest.mark.parametrize("init, std", [("he", np.sqrt(2 / 400)), ("lecun", np.sqrt(1 / 400)),
                                       ("xavier", np.sqrt(2 / 600)), (0.05, 0.05)])
def test_mlp_initializers(init, std):
    net = nn.MLP(400, [200], 10, init=init, seed=0)
    W = net.params["W1"]
    assert W.std() == pytest.approx(std, rel=0.03)
    assert not net.params["b1"].any()


def test_mlp_seed_is_reproducible():
    a = nn.MLP(5, [4], 3, seed=42).params
    b = nn.MLP(5, [4], 3, seed=42).params
    c = nn.MLP(5, [4], 3, seed=43).params
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["W1"], c["W1"])


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        nn.MLP(2, [2], 2, activation="gelu")
    with pytest.raises(ValueError, match="init"):
        nn.MLP(2, [2], 2, init="glorot_uniform")
    with pytest.raises(TypeError, match="dtype"):
        nn.MLP(2, [2], 2, dtype=np.int32)


def test_mlp_learns_with_plain_gradient_descent(rng):
    x = rng.standard_normal((60, 4))
    t = (x[:, 0] + x[:, 1] > 0).astype(int)
    net = nn.MLP(4, [16], 2, seed=0)
    first = net.loss(x, t)
    for _ in range(200):
        for k, g in net.gradient(x, t).items():
            net.params[k] -= 0.5 * g
    assert net.loss(x, t) < 0.3 * first
    assert net.accuracy(x, t) > 0.95
    assert net.accuracy(x, np.eye(2)[t]) == net.accuracy(x, t)


def test_mlp_hidden_activations(rng):
    net = nn.MLP(5, [4, 3], 2, activation="tanh", dropout=0.5, seed=0)
    x, _ = _data(rng)
    acts = net.hidden_activations(x)
    assert [a.shape for a in acts] == [(6, 4), (6, 3)]
    h1 = np.tanh(x @ net.params["W1"] + net.params["b1"])
    np.testing.assert_allclose(acts[0], h1)          # evaluation mode: no dropout
    np.testing.assert_allclose(acts[1], np.tanh(h1 @ net.params["W2"] + net.params["b2"]))
    train_acts = net.hidden_activations(x, train=True)
    assert np.any(train_acts[0] == 0) and not np.allclose(train_acts[0], h1)
