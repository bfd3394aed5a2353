"""Checkpoints: params and full optimizer state in one verified ``.npz`` file.

A checkpoint is a zip archive readable by ``numpy.load`` (uncompressed
``.npz``) with these members:

* ``header.json``: format name and version, the fastoptim version that
  wrote it, the parameter names, the optimizer class, hyperparameter groups
  and step counts, user metadata, and a table of every array member with
  its dtype and shape;
* ``p<i>.npy``: parameter ``i``; ``s<i>.<buffer>.npy``: optimizer state
  buffer of parameter ``i`` (same buffer names as ``state_dict()``).

The archive comment (the last bytes of the file) is
``fastoptim-checkpoint sha256=<hex>``: the SHA-256 of every byte before
it, so any changed byte and any truncation is detected before the archive
is even parsed.

Saving is atomic: the archive is written to a temporary file beside the
target, flushed and fsynced, renamed over the target with ``os.replace``
and the directory is fsynced, so a process killed at any moment leaves
either the previous checkpoint or the new one, never a mix. Loading checks
the format, the version and the checksum before returning anything, and
loading into existing arrays or an optimizer checks every name, shape,
dtype and the optimizer kind before writing anything.

Example:
    >>> import os, tempfile, numpy as np, fastoptim as fo
    >>> from fastoptim.checkpoint import save, load
    >>> params = {"W": np.ones((2, 2), np.float32)}
    >>> opt = fo.Adam(params, lr=0.1)
    >>> opt.step({"W": np.ones((2, 2), np.float32)})
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> save(path, params, opt, metadata={"epoch": 1})
    >>> fresh = {"W": np.zeros((2, 2), np.float32)}
    >>> opt2 = fo.Adam(fresh, lr=0.1)
    >>> ckpt = load(path, fresh, opt2)
    >>> bool((fresh["W"] == params["W"]).all()), opt2.state[0]["step"], ckpt.metadata
    (True, 1, {'epoch': 1})
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._version import __version__
from .optim.optimizer import Optimizer

__all__ = ["save", "load", "Checkpoint", "FORMAT", "FORMAT_VERSION"]

FORMAT = "fastoptim-checkpoint"
FORMAT_VERSION = 2  # 2: tuples and non-str dict keys in param groups round-trip

PathLike = Union[str, "os.PathLike[str]"]
Params = Union[Mapping[str, np.ndarray], Sequence[np.ndarray]]

_TMP_TAG = ".fastoptim-tmp."


@dataclass
class Checkpoint:
    """What :func:`load` read from a checkpoint file.

    Attributes:
        path: the file read.
        params: the parameters: a dict name -> array when they were saved
            by name, else a list in order. When :func:`load` was given
            arrays to load into, these are those arrays (now updated).
        optimizer_class: class name of the saved optimizer (``"Adam"``...),
            or None when no optimizer was saved.
        optimizer_state: the saved optimizer's ``state_dict()`` (ready for
            ``load_state_dict``), or None.
        metadata: the user metadata given to :func:`save` (JSON values).
        version: format version of the file.
        fastoptim_version: version of fastoptim that wrote the file.
    """

    path: str
    params: Union[Dict[str, np.ndarray], List[np.ndarray]]
    optimizer_class: Optional[str] = None
    optimizer_state: Optional[Dict[str, Any]] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION
    fastoptim_version: str = ""


# -- saving --------------------------------------------------------------------


def _split_params(params: Any, what: str) -> Tuple[Optional[List[str]], List[np.ndarray]]:
    """(names or None, arrays) of a dict name -> array or a list of arrays."""
    if isinstance(params, np.ndarray) or isinstance(params, (str, bytes)) or params is None:
        raise TypeError(f"{what} must be a dict name -> array or a list of arrays, "
                        f"got {type(params).__name__}")
    if isinstance(params, Mapping):
        names = list(params.keys())
        for k in names:
            if not isinstance(k, str):
                raise TypeError(f"{what} names must be str, got {type(k).__name__} {k!r}")
        arrays = list(params.values())
    else:
        try:
            arrays = list(params)
        except TypeError:
            raise TypeError(f"{what} must be a dict name -> array or a list of arrays, "
                            f"got {type(params).__name__}") from None
        names = None
    for i, a in enumerate(arrays):
        label = f"{what}[{names[i]!r}]" if names is not None else f"{what}[{i}]"
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{label} must be a numpy.ndarray, got {type(a).__name__}")
        if a.dtype.hasobject:
            raise TypeError(f"{label} has dtype object, which a checkpoint cannot hold")
    return names, arrays


def _optimizer_params(optimizer: Optimizer) -> Tuple[Optional[List[str]], List[np.ndarray]]:
    arrays = [a for g in optimizer.param_groups for a in g["params"]]
    keys = getattr(optimizer, "_keys", None)
    return (list(keys) if keys is not None else None), arrays


def _json_value(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} {obj!r} is not a JSON value")


# A group's entries (hyperparameters, and keys a user or a schedule keeps
# there) come back as they went in: JSON lacks tuples and non-str dict keys,
# so those (and dicts that could be mistaken for them) are tagged (version 2).
_TUPLE, _ITEMS = "__tuple__", "__items__"


def _encode_entry(v: Any) -> Any:
    if isinstance(v, tuple):
        return {_TUPLE: [_encode_entry(x) for x in v]}
    if isinstance(v, list):
        return [_encode_entry(x) for x in v]
    if isinstance(v, dict):
        if all(type(k) is str for k in v) and _TUPLE not in v and _ITEMS not in v:
            return {k: _encode_entry(x) for k, x in v.items()}
        return {_ITEMS: [[_encode_entry(k), _encode_entry(x)] for k, x in v.items()]}
    return v


def _decode_entry(v: Any) -> Any:
    if isinstance(v, list):
        return [_decode_entry(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and _TUPLE in v:
            return tuple(_decode_entry(x) for x in v[_TUPLE])
        if len(v) == 1 and _ITEMS in v:
            return {_hashable(_decode_entry(k)): _decode_entry(x) for k, x in v[_ITEMS]}
        return {k: _decode_entry(x) for k, x in v.items()}
    return v


def _hashable(k: Any) -> Any:
    if isinstance(k, (list, dict)):
        raise ValueError(f"a dict key in a parameter group decodes to a {type(k).__name__}")
    return k


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a fastoptim optimizer, got {type(optimizer).__name__}")


def _encode_optimizer(optimizer: Any, names: Optional[List[str]], arrays: List[np.ndarray],
                      table: Dict[str, np.ndarray]) -> Dict[str, Any]:
    _check_optimizer(optimizer)
    if not optimizer.param_groups:
        raise ValueError(f"optimizer: this {type(optimizer).__name__} has no parameters yet "
                         "(nothing to save); step it once or pass params to its constructor")
    onames, oarrays = _optimizer_params(optimizer)
    if names is not None and onames is not None:
        if set(onames) != set(names) or len(onames) != len(names):
            missing = [k for k in onames if k not in names]
            extra = [k for k in names if k not in onames]
            raise ValueError(f"params and optimizer hold different parameters: not in params: "
                             f"{missing!r}, not in the optimizer: {extra!r}")
        by_name = dict(zip(names, arrays))
        pairs = [(repr(k), by_name[k], b) for k, b in zip(onames, oarrays)]
    else:
        if len(oarrays) != len(arrays):
            raise ValueError(f"optimizer has {len(oarrays)} parameters but params has "
                             f"{len(arrays)}")
        pairs = [(str(i), a, b) for i, (a, b) in enumerate(zip(arrays, oarrays))]
    for label, a, b in pairs:
        if a.shape != b.shape or a.dtype != b.dtype:
            raise ValueError(f"params[{label}] has {a.dtype} {a.shape} but the optimizer's "
                             f"parameter {label} has {b.dtype} {b.shape}")
    sd = optimizer.state_dict()
    state: Dict[str, Any] = {}
    for i, d in sd["state"].items():
        bufs = {}
        for name, v in d.items():
            if name == "step":
                continue
            key = f"s{int(i)}.{name}"
            table[key] = v
            bufs[name] = key
        state[str(int(i))] = {"step": int(d["step"]), "buffers": bufs}
    return {
        "class": type(optimizer).__name__,
        "defaults": dict(optimizer.defaults),
        "param_groups": [{k: (v if k in ("params", "param_names") else _encode_entry(v))
                          for k, v in g.items()} for g in sd["param_groups"]],
        "state": state,
    }


_COMMENT_PREFIX = b"fastoptim-checkpoint sha256="
_COMMENT_LEN = len(_COMMENT_PREFIX) + 64
_CHUNK = 1 << 20


def _hash_prefix(f: Any, n: int) -> str:
    """SHA-256 (hex) of the first ``n`` bytes of the open file ``f``."""
    h = hashlib.sha256()
    f.seek(0)
    left = n
    while left:
        chunk = f.read(min(_CHUNK, left))
        if not chunk:
            break
        h.update(chunk)
        left -= len(chunk)
    return h.hexdigest()


def _write_archive(f: Any, header_bytes: bytes, table: Mapping[str, np.ndarray]) -> None:
    """The archive with a placeholder comment, then the real checksum over it in place."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("header.json", header_bytes)
        for key, arr in table.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as m:
                np.lib.format.write_array(m, np.asanyarray(arr), allow_pickle=False)
        zf.comment = _COMMENT_PREFIX + b"0" * 64
    f.flush()
    end = f.seek(0, os.SEEK_END)
    digest = _hash_prefix(f, end - 64)
    f.seek(end - 64)
    f.write(digest.encode("ascii"))


def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    umask = 0o022
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o666 & ~umask


def _remove_stale_temps(directory: str, base: str) -> None:
    """Delete temporary files of earlier saves to this path whose writer has died.

    The writer's host and pid are in the temporary name; only files of this
    host whose process no longer exists are removed, so a save running
    concurrently (here or on another host sharing the directory) is left alone.
    """
    prefix = f".{base}{_TMP_TAG}"
    host = socket.gethostname()
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        try:
            whost, wpid, _ = entry[len(prefix):].rsplit(".", 2)
            pid = int(wpid)
        except ValueError:
            continue
        if whost != host or pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # still running (or not ours to signal): leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            os.unlink(os.path.join(directory, entry))
        except OSError:
            pass


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open a directory (Windows) need no fsync of it
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(path: PathLike, params: Optional[Params], optimizer: Optional[Optimizer] = None, *,
         metadata: Optional[Mapping[str, Any]] = None) -> None:
    """Write ``params`` and the full state of ``optimizer`` to one checkpoint file, atomically.

    Args:
        path: the file to write (used as given: no ``.npz`` is appended).
            Its directory must exist.
        params: dict name -> array (names must be str) or list of arrays;
            None to take the optimizer's own parameters.
        optimizer: a fastoptim optimizer bound to these parameters (same
            names, shapes and dtypes, in the same order), or None.
        metadata: JSON-serializable dict stored as is (epoch, loss, ...).

    The file is written beside ``path`` under a temporary name, fsynced,
    renamed over ``path`` and the directory fsynced: at every moment ``path``
    holds either the previous complete checkpoint or the new one.
    Temporary files left by killed writers are removed by later saves.
    ``optimizer``'s lock is held while the file is written, so a step from
    another thread waits and the file holds params and state of one moment.
    Each group's entries come back as they were saved (tuples, lists, dicts
    with int keys), as long as they are JSON values inside.

    Raises:
        TypeError, ValueError: bad arguments (a ``path`` naming a directory
            too), before any file is touched.
        FileNotFoundError: the directory of ``path`` does not exist; nothing
            is written.
        OSError: the write itself failed (permissions, disk full, ...);
            ``path`` is left as it was and the temporary file is removed.
    """
    fspath = os.fsdecode(path)
    if os.path.isdir(fspath):
        raise ValueError(f"path {fspath!r} is a directory; name the checkpoint file")
    if isinstance(optimizer, Optimizer):
        # Another thread's step waits until the file is written: params and
        # state are of one moment.
        with optimizer._lock:
            _save(fspath, params, optimizer, metadata)
    else:
        _save(fspath, params, optimizer, metadata)


def _save(fspath: str, params: Optional[Params], optimizer: Optional[Optimizer],
          metadata: Optional[Mapping[str, Any]]) -> None:
    if params is None:
        if optimizer is None:
            raise TypeError("save() needs params, an optimizer, or both")
        _check_optimizer(optimizer)
        names, arrays = _optimizer_params(optimizer)
    else:
        names, arrays = _split_params(params, "params")
    table: Dict[str, np.ndarray] = {}
    for i, a in enumerate(arrays):
        table[f"p{i}"] = a
    header: Dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "fastoptim_version": __version__,
        "params": {"names": names, "count": len(arrays)},
        "optimizer": (None if optimizer is None
                      else _encode_optimizer(optimizer, names, arrays, table)),
    }
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        header["metadata"] = json.loads(json.dumps(dict(metadata or {}), allow_nan=False,
                                                   default=_json_value))
    except (TypeError, ValueError) as e:
        raise TypeError(f"metadata must hold JSON values (str, finite numbers, bools, None, "
                        f"lists, dicts with str keys): {e}") from None
    header["arrays"] = {k: {"dtype": table[k].dtype.str, "shape": list(table[k].shape)}
                        for k in table}
    try:
        header_bytes = json.dumps(header, sort_keys=True, default=_json_value,
                                  allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"optimizer hyperparameters must be JSON values: {e}") from None

    directory = os.path.dirname(os.path.abspath(fspath))
    base = os.path.basename(fspath)
    if not base:
        raise ValueError(f"path {fspath!r} names a directory, not a file")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save {fspath!r}: directory {directory!r} does not exist")
    _remove_stale_temps(directory, base)
    mode = _file_mode(fspath)
    prefix = f".{base}{_TMP_TAG}{socket.gethostname()}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        with os.fdopen(fd, "w+b") as f:
            _write_archive(f, header_bytes, table)
            f.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, fspath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


# -- loading -------------------------------------------------------------------


class _Corrupt(Exception):
    pass


def _read(fspath: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """The verified header and arrays of a checkpoint file, or ValueError naming the file."""
    bad = f"{fspath!r} is not a valid fastoptim checkpoint"
    try:
        f = open(fspath, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {fspath!r} does not exist") from None
    with f:
        # One open file for the check and the parse: a save replacing the
        # path meanwhile cannot mix two files.
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            raise ValueError(f"{bad}: the file is empty")
        f.seek(0)
        if f.read(4) != b"PK\x03\x04":
            raise ValueError(f"{bad}: not an .npz (zip) archive")
        if size < _COMMENT_LEN:
            raise ValueError(f"{bad}: the file is truncated ({size} bytes)")
        f.seek(size - _COMMENT_LEN)
        comment = f.read(_COMMENT_LEN)
        if not comment.startswith(_COMMENT_PREFIX):
            raise ValueError(f"{bad}: no checksum at the end of the file (the file is "
                             "truncated, or was not written by fastoptim.save)")
        if _hash_prefix(f, size - 64).encode("ascii") != comment[len(_COMMENT_PREFIX):]:
            raise ValueError(f"{bad}: checksum mismatch (the file is corrupted)")
        # Past the checksum the bytes are exactly what save() wrote; errors
        # below mean a file forged with a valid checksum, still reported.
        try:
            with zipfile.ZipFile(f) as zf:
                header = json.loads(zf.read("header.json").decode("utf-8"))
                spec = header["arrays"]
                members: Dict[str, np.ndarray] = {}
                for key in spec:
                    with zf.open(key + ".npy") as m:
                        members[key] = np.lib.format.read_array(m, allow_pickle=False)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError,
                ValueError, TypeError, NotImplementedError, struct.error,
                UnicodeDecodeError, SyntaxError) as e:
            raise ValueError(f"{bad}: malformed archive ({type(e).__name__}: {e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{bad}: the header does not say format {FORMAT!r}")
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ValueError(f"{fspath!r} has checkpoint format version {version!r}; this fastoptim "
                         f"({__version__}) reads versions 1 to {FORMAT_VERSION}: upgrade fastoptim")
    for k, s in spec.items():
        a = members[k]
        if a.dtype.str != s.get("dtype") or list(a.shape) != s.get("shape"):
            raise ValueError(f"{bad}: array {k!r} is {a.dtype.str} {list(a.shape)}, the header "
                             f"says {s.get('dtype')} {s.get('shape')}")
    return header, members


def _decode_optimizer(opt: Dict[str, Any], members: Dict[str, np.ndarray],
                      version: int) -> Dict[str, Any]:
    state: Dict[int, Dict[str, Any]] = {}
    for i, d in opt["state"].items():
        entry: Dict[str, Any] = {"step": int(d["step"])}
        for name, key in d["buffers"].items():
            entry[name] = members[key]
        state[int(i)] = entry
    groups = []
    for g in opt["param_groups"]:
        g = dict(g)
        for k, v in g.items():
            if k in ("params", "param_names"):
                continue
            if version >= 2:
                g[k] = _decode_entry(v)
            elif isinstance(v, list):
                # Version 1 stored plain JSON: its one sequence-valued
                # hyperparameter is a pair (betas).
                g[k] = tuple(v)
        groups.append(g)
    return {"state": state, "param_groups": groups}


def _check_targets(fspath: str, names: Optional[List[str]], saved: List[np.ndarray],
                   params: Any) -> List[np.ndarray]:
    """The arrays to load into, checked against the saved ones; raises before any write."""
    where = f"cannot load {fspath!r} into params"
    try:
        tnames, targets = _split_params(params, "params")
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None
    if (names is None) != (tnames is None):
        raise ValueError(f"{where}: the checkpoint holds "
                         f"{'named parameters (a dict)' if names is not None else 'a list'} but "
                         f"params is {'a dict' if tnames is not None else 'a list'}")
    if names is not None and tnames is not None:
        missing = [k for k in names if k not in params]
        extra = [k for k in tnames if k not in names]
        if missing or extra:
            raise ValueError(f"{where}: parameter names differ; missing from params: "
                             f"{missing!r}, not in the checkpoint: {extra!r}")
        targets = [params[k] for k in names]
    elif len(targets) != len(saved):
        raise ValueError(f"{where}: the checkpoint has {len(saved)} parameters, params has "
                         f"{len(targets)}")
    for i, (t, s) in enumerate(zip(targets, saved)):
        label = f"params[{names[i]!r}]" if names is not None else f"params[{i}]"
        if t.dtype != s.dtype:
            raise TypeError(f"{where}: {label} has dtype {t.dtype}, the checkpoint {s.dtype}")
        if t.shape != s.shape:
            raise ValueError(f"{where}: {label} has shape {t.shape}, the checkpoint {s.shape}")
        if not t.flags.writeable:
            raise ValueError(f"{where}: {label} is read-only")
    return targets


def load(path: PathLike, params: Optional[Params] = None,
         optimizer: Optional[Optimizer] = None) -> Checkpoint:
    """Read a checkpoint written by :func:`save`, optionally restoring it in place.

    Args:
        path: the checkpoint file.
        params: arrays to restore into, in place: the same structure as
            saved (dict with the same names, or list of the same length)
            and the same shapes and dtypes. None: only return new arrays.
        optimizer: an optimizer of the saved class to restore the state and
            hyperparameters into (via ``load_state_dict``). When given
            without ``params``, its own parameters are restored too.

    Everything (file integrity, names, shapes, dtypes, optimizer class,
    group sizes, state buffers) is checked before anything is written, so
    a failed load leaves ``params`` and ``optimizer`` unchanged.

    Returns:
        The :class:`Checkpoint` (params, optimizer state, metadata).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is truncated, corrupted (checksum), not a
            checkpoint or of a newer format; or it does not fit ``params``
            or ``optimizer`` (names, shapes, optimizer kind, groups).
        TypeError: a dtype differs or an argument has the wrong type.
    """
    fspath = os.fsdecode(path)
    header, members = _read(fspath)
    try:
        names = header["params"]["names"]
        count = int(header["params"]["count"])
        saved = [members[f"p{i}"] for i in range(count)]
        opt_header = header.get("optimizer")
        opt_state = (_decode_optimizer(opt_header, members, int(header["version"]))
                     if opt_header is not None else None)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"{fspath!r} is not a valid fastoptim checkpoint: malformed header "
                         f"({type(e).__name__}: {e})") from None
    opt_class = opt_header["class"] if opt_header is not None else None

    targets: Optional[List[np.ndarray]] = None
    if optimizer is not None:
        _check_optimizer(optimizer)
        if opt_state is None:
            raise ValueError(f"cannot load {fspath!r} into a {type(optimizer).__name__}: the "
                             "checkpoint holds no optimizer state")
        if type(optimizer).__name__ != opt_class:
            raise ValueError(f"cannot load {fspath!r} into a {type(optimizer).__name__}: the "
                             f"checkpoint is of a {opt_class}")
        if params is None and optimizer.param_groups:
            onames, oarrays = _optimizer_params(optimizer)
            params = dict(zip(onames, oarrays)) if onames is not None else oarrays
    if params is not None:
        targets = _check_targets(fspath, names, saved, params)
    # Another thread's step waits until params and state are both restored.
    with optimizer._lock if optimizer is not None else contextlib.nullcontext():
        if optimizer is not None and opt_state is not None:
            try:
                optimizer.load_state_dict(opt_state)  # checks everything, then applies
            except (TypeError, ValueError) as e:
                raise type(e)(f"cannot load {fspath!r} into this {type(optimizer).__name__}: "
                              f"{e}") from None
        if targets is not None:
            for t, s in zip(targets, saved):
                np.copyto(t, s)
    out_arrays = targets if targets is not None else saved
    out_params: Union[Dict[str, np.ndarray], List[np.ndarray]] = (
        dict(zip(names, out_arrays)) if names is not None else list(out_arrays))
    return Checkpoint(
        path=fspath,
        params=out_params,
        optimizer_class=opt_class,
        optimizer_state=opt_state,
        metadata=header.get("metadata") or {},
        version=int(header["version"]),
        fastoptim_version=str(header.get("fastoptim_version", "")),
    )
