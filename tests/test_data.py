"""The IDX reader on files written here, MNIST folder loading, and the digits."""

import gzip
import struct

import numpy as np
import pytest

from fastoptim import data


def write_idx(path, array, type_code=0x08, compress=False):
    array = np.asarray(array)
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(payload)
    return path


def make_mnist(folder, compress=False, n_train=7, n_test=3, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 4, 5), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 4, 5), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, stem in data.MNIST_FILES.items():
        write_idx(folder / (stem + (".gz" if compress else "")), arrays[key], compress=compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B),
                                         (np.int32, 0x0C), (np.float32, 0x0D),
                                         (np.float64, 0x0E)])
def test_read_idx_roundtrip(tmp_path, compress, dtype, code):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4) * 10
    path = write_idx(tmp_path / ("x.idx" + (".gz" if compress else "")), a, code, compress)
    b = data.read_idx(path)
    assert b.shape == a.shape and b.dtype == dtype
    np.testing.assert_array_equal(b, a)


def test_read_idx_big_endian_multibyte(tmp_path):
    raw = bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
    (tmp_path / "s").write_bytes(raw)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "s"), [258, -2])


@pytest.mark.parametrize("raw, message", [
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), "not an IDX file"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]), "unknown IDX data type 0x42"),
    (bytes([0, 0, 8, 2, 0, 0, 0, 1]), "truncated header"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 6]), "2 data bytes.*needs 3"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 5, 6]), "2 data bytes.*needs 1"),
])
def test_read_idx_errors(tmp_path, raw, message):
    (tmp_path / "bad").write_bytes(raw)
    with pytest.raises(ValueError, match=message):
        data.read_idx(tmp_path / "bad")


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist(tmp_path, compress):
    arrays = make_mnist(tmp_path, compress)
    ds = data.load_mnist(tmp_path)
    assert ds.name == "mnist" and ds.n_classes == 10
    assert ds.x_train.shape == (7, 20) and ds.x_test.shape == (3, 20)
    np.testing.assert_allclose(ds.x_train, arrays["train_images"].reshape(7, 20) / 255)
    np.testing.assert_array_equal(ds.t_test, arrays["test_labels"])
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1

    raw = data.load_mnist(tmp_path, normalize=False, flatten=False, one_hot=True,
                          dtype=np.float32)
    assert raw.x_train.shape == (7, 4, 5) and raw.x_train.dtype == np.float32
    np.testing.assert_array_equal(raw.x_train, arrays["train_images"])
    assert raw.t_train.shape == (7, 10)
    np.testing.assert_array_equal(raw.t_train.argmax(axis=1), arrays["train_labels"])
    np.testing.assert_array_equal(raw.t_train.sum(axis=1), 1)


def test_load_mnist_missing_file_is_named(tmp_path):
    make_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_mnist(tmp_path / "nowhere")


def test_load_mnist_mismatched_counts(tmp_path):
    make_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        data.load_mnist(tmp_path)


def test_load_dataset_uses_env_var(tmp_path, monkeypatch):
    make_mnist(tmp_path, compress=True)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    assert data.load_dataset().name == "mnist"
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        data.load_dataset()
    monkeypatch.delenv(data.ENV_VAR)
    assert data.load_dataset(data=tmp_path).name == "mnist"


def test_load_digits():
    pytest.importorskip("sklearn")
    ds = data.load_digits()
    assert ds.name == "digits" and ds.n_classes == 10
    assert ds.x_train.shape == (1438, 64) and ds.x_test.shape == (359, 64)
    assert ds.x_train.min() == 0 and ds.x_train.max() == 1
    assert set(np.unique(ds.t_train)) == set(range(10))
    again = data.load_digits()
    np.testing.assert_array_equal(again.t_test, ds.t_test)
    other = data.load_digits(seed=1)
    assert not np.array_equal(other.t_test, ds.t_test)
    assert data.load_digits(flatten=False).x_train.shape == (1438, 8, 8)


def test_load_digits_without_sklearn_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"fastoptim\[data\]"):
        data.load_digits()


def test_train_test_split_and_one_hot():
    x, t = np.arange(20).reshape(10, 2), np.arange(10)
    (xa, ta), (xb, tb) = data.train_test_split(x, t, 0.3, seed=0)
    assert len(xb) == 3 and len(xa) == 7
    assert sorted([*ta, *tb]) == list(range(10))
    np.testing.assert_array_equal(xa[:, 0] // 2, ta)
    with pytest.raises(ValueError, match="test_fraction"):
        data.train_test_split(x, t, 1.0)
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


def test_subset():
    pytest.importorskip("sklearn")
    ds = data.load_digits().subset(100, 50)
    assert len(ds.x_train) == len(ds.t_train) == 100 and len(ds.x_test) == 50
