"""Datasets for the experiments: scikit-learn's 8x8 digits, or MNIST from IDX files.

Nothing is downloaded. The default dataset, the 1797 8x8 digits, ships inside
scikit-learn (``pip install fastoptim[data]``). MNIST is read from the four
IDX files (raw or ``.gz``) in a folder given as ``data=`` / ``--data DIR`` or
the environment variable ``FASTOPTIM_DATA``.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._errors import UsageValueError

__all__ = ["Dataset", "read_idx", "load_digits", "load_mnist", "load_dataset",
           "train_test_split", "one_hot", "MNIST_FILES", "ENV_VAR"]

ENV_VAR = "FASTOPTIM_DATA"

#: The four files of MNIST, as distributed (each may also end in ``.gz``).
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# IDX type byte -> big-endian NumPy dtype (LeCun's format description).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass
class Dataset:
    """Train and test arrays; images flattened to ``(N, features)``."""

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))

    def subset(self, n_train: int | None = None, n_test: int | None = None) -> "Dataset":
        """The first ``n_train`` training and ``n_test`` test samples."""
        return Dataset(self.name, self.x_train[:n_train], self.t_train[:n_train],
                       self.x_test[:n_test], self.t_test[:n_test], self.n_classes)


def read_idx(path) -> np.ndarray:
    """Read one IDX file (raw or gzip, chosen by the ``.gz`` suffix) into an array.

    The header is two zero bytes, a type byte (0x08 uint8 ... 0x0E float64),
    the number of dimensions, then each dimension as a big-endian uint32.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: bad magic number, unknown type, or data shorter/longer
            than the header says.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise UsageValueError(f"{path}: not an IDX file (magic number must start with two "
                              f"zero bytes)")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise UsageValueError(f"{path}: unknown IDX data type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UsageValueError(f"{path}: truncated header ({ndim} dimensions announced)")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, 4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise UsageValueError(f"{path}: {len(raw) - header} data bytes, header of shape {shape} "
                              f"and type {dtype.name} needs {expected}")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def one_hot(t: np.ndarray, n_classes: int, dtype=np.float64) -> np.ndarray:
    """Integer labels ``(N,)`` to one-hot rows ``(N, n_classes)``."""
    out = np.zeros((len(t), n_classes), dtype)
    out[np.arange(len(t)), t] = 1
    return out


def train_test_split(x: np.ndarray, t: np.ndarray, test_fraction: float, *, seed=0):
    """Shuffle with ``seed`` and split; returns ``(x_train, t_train), (x_test, t_test)``."""
    if not 0 < test_fraction < 1:
        raise UsageValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (x[train], t[train]), (x[test], t[test])


def _finish(name, x_train, t_train, x_test, t_test, scale, n_classes, normalize, one_hot_labels,
            flatten, dtype) -> Dataset:
    def images(x):
        x = x.astype(dtype)
        if normalize:
            x /= scale
        return x.reshape(len(x), -1) if flatten else x

    def labels(t):
        t = t.astype(np.int64)
        return one_hot(t, n_classes, dtype) if one_hot_labels else t

    return Dataset(name, images(x_train), labels(t_train), images(x_test), labels(t_test),
                   n_classes)


def load_digits(*, normalize: bool = True, one_hot: bool = False, flatten: bool = True,
                test_fraction: float = 0.2, seed=0, dtype=np.float64) -> Dataset:
    """scikit-learn's 1797 8x8 handwritten digits (pixel values 0..16), split at random.

    Args:
        normalize: scale pixels to ``[0, 1]``.
        one_hot: labels as one-hot rows instead of integers.
        flatten: images as 64-vectors instead of 8x8.
        test_fraction: share of samples held out for testing.
        seed: the shuffle before the split.
        dtype: of the images (and of one-hot labels).

    Raises:
        ImportError: scikit-learn is not installed (``pip install fastoptim[data]``).
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as e:
        raise ImportError(
            "the default dataset (8x8 digits) ships with scikit-learn, which is not "
            "installed: pip install 'fastoptim[data]' (or scikit-learn), or pass MNIST "
            f"IDX files with data=DIR / --data DIR / {ENV_VAR}=DIR") from e
    bunch = _sk_load_digits()
    x, t = bunch.images, bunch.target
    (xtr, ttr), (xte, tte) = train_test_split(x, t, test_fraction, seed=seed)
    return _finish("digits", xtr, ttr, xte, tte, 16.0, 10, normalize, one_hot, flatten, dtype)


def _find(folder: Path, stem: str) -> Path:
    # Some mirrors write "train-images.idx3-ubyte"; accept that spelling too.
    for name in (stem, stem.replace("-idx", ".idx")):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(
        f"MNIST file {stem} (or {stem}.gz) not found in {folder}; the folder needs "
        f"{', '.join(MNIST_FILES.values())}")


def load_mnist(folder, *, normalize: bool = True, one_hot: bool = False, flatten: bool = True,
               dtype=np.float64) -> Dataset:
    """MNIST from the four IDX files in ``folder`` (raw or ``.gz``), 60000/10000 split.

    Raises:
        FileNotFoundError: naming the first missing file.
        ValueError: a file is not a valid IDX file, or images and labels disagree.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"MNIST folder {folder} does not exist")
    paths = {key: _find(folder, stem) for key, stem in MNIST_FILES.items()}
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        xi, ti = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if xi.ndim != 3 or ti.ndim != 1 or len(xi) != len(ti):
            raise UsageValueError(f"MNIST {split}: images of shape {xi.shape} and labels of shape "
                                  f"{ti.shape} do not match (expected (N, rows, cols) and (N,))")
    n_classes = int(max(arrays["train_labels"].max(initial=0),
                        arrays["test_labels"].max(initial=0))) + 1
    return _finish("mnist", arrays["train_images"], arrays["train_labels"],
                   arrays["test_images"], arrays["test_labels"], 255.0, max(n_classes, 10),
                   normalize, one_hot, flatten, dtype)


def load_dataset(data=None, **kwargs) -> Dataset:
    """MNIST from ``data`` (a folder) or ``$FASTOPTIM_DATA`` if set, else the digits.

    ``kwargs`` go to :func:`load_mnist` or :func:`load_digits`
    (``test_fraction`` and ``seed`` apply to the digits only).
    """
    folder = data if data is not None else os.environ.get(ENV_VAR) or None
    if folder is not None:
        kwargs.pop("test_fraction", None)
        kwargs.pop("seed", None)
        return load_mnist(folder, **kwargs)
    return load_digits(**kwargs)
