"""Checkpoints: bit-identical resumption, mismatch errors, corruption, and crash safety."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import fastoptim as fo
from fastoptim.checkpoint import FORMAT_VERSION, Checkpoint, load, save

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(fo.__file__)))

# (class, constructor kwargs, groups?) covering every state buffer.
CONFIGS = [
    ("SGD", dict(lr=0.1, weight_decay=0.01)),
    ("Momentum", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Momentum", dict(lr=0.05, momentum=0.5, dampening=0.3, maximize=True)),
    ("AdaGrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("RMSProp", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSProp", dict(lr=0.01)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
]
IDS = [f"{c}-{i}" for i, (c, _) in enumerate(CONFIGS)]


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((7, 5)).astype(np.float32),
        "b1": rng.standard_normal(5),
        "s": np.array(rng.standard_normal()),  # 0-d
        "empty": np.zeros((0, 3), np.float32),
        "W2": rng.standard_normal((300,)).astype(np.float32),
    }


def grads_for(params, step):
    rng = np.random.default_rng(1000 + step)
    return {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in params.items()}


def as_groups(params, kwargs):
    """Two groups with different settings: W* and the rest (lr halved)."""
    first = {k: v for k, v in params.items() if k.startswith("W")}
    rest = {k: v for k, v in params.items() if not k.startswith("W")}
    return [{"params": first}, {"params": rest, "lr": kwargs.get("lr", 0.01) / 2}]


def assert_same_state(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        assert a["state"][i].keys() == b["state"][i].keys()
        for k, v in a["state"][i].items():
            if isinstance(v, np.ndarray):
                assert v.dtype == b["state"][i][k].dtype
                np.testing.assert_array_equal(v, b["state"][i][k], strict=True)
            else:
                assert v == b["state"][i][k]


def assert_same_params(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        assert a[k].tobytes() == b[k].tobytes(), k


# -- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("grouped", [False, True], ids=["one-group", "two-groups"])
@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=IDS)
def test_resume_is_bit_identical(tmp_path, cls, kwargs, grouped):
    k, total = 3, 7
    Opt = getattr(fo, cls)

    def build(params):
        return Opt(as_groups(params, kwargs) if grouped else params, **kwargs)

    ref = make_params()
    ref_opt = build(ref)
    for t in range(1, total + 1):
        ref_opt.step(grads_for(ref, t))
        if t == k:
            path = tmp_path / "ckpt.npz"
            save(path, ref, ref_opt, metadata={"step": t})

    fresh = {name: np.zeros_like(v) for name, v in make_params().items()}
    opt = build(fresh)
    ckpt = load(path, fresh, opt)
    assert isinstance(ckpt, Checkpoint)
    assert ckpt.metadata == {"step": k} and ckpt.optimizer_class == cls
    assert ckpt.version == FORMAT_VERSION and ckpt.fastoptim_version == fo.__version__
    assert ckpt.params["W1"] is fresh["W1"]
    assert all(d["step"] == k for d in opt.state.values())
    for t in range(k + 1, total + 1):
        opt.step(grads_for(fresh, t))
    assert_same_params(fresh, ref)
    assert_same_state(opt.state_dict(), ref_opt.state_dict())


@pytest.mark.parametrize("cls,kwargs", CONFIGS[::2], ids=IDS[::2])
def test_resume_list_params_and_course_style(tmp_path, cls, kwargs):
    """Unnamed params, and an optimizer built without params that binds on update()."""
    Opt = getattr(fo, cls)
    ref = list(make_params().values())
    ref_opt = Opt(ref, **kwargs)
    grads = [list(grads_for(make_params(), t).values()) for t in range(1, 6)]
    for t in range(2):
        ref_opt.step(grads[t])
    save(tmp_path / "c", ref, ref_opt)
    for t in range(2, 5):
        ref_opt.step(grads[t])

    fresh = [np.zeros_like(a) for a in ref]
    opt = Opt(**kwargs)  # the course's style: no params until update()
    ckpt = load(tmp_path / "c", fresh, opt)
    assert isinstance(ckpt.params, list) and ckpt.params[0] is fresh[0]
    for t in range(2, 5):
        opt.update(fresh, grads[t])
    for a, b in zip(fresh, ref):
        assert a.tobytes() == b.tobytes()
    assert_same_state(opt.state_dict(), ref_opt.state_dict())


def test_load_without_targets_and_into_optimizer_alone(tmp_path):
    params = make_params()
    opt = fo.Adam(params, lr=0.1)
    opt.step(grads_for(params, 1))
    save(tmp_path / "c.npz", params, opt)

    ckpt = load(tmp_path / "c.npz")
    assert_same_params(ckpt.params, params)
    assert all(ckpt.params[k] is not params[k] for k in params)
    assert_same_state(ckpt.optimizer_state, opt.state_dict())

    # An optimizer alone: its own bound arrays receive the params.
    other = {k: np.zeros_like(v) for k, v in params.items()}
    opt2 = fo.Adam(other, lr=0.5)
    load(tmp_path / "c.npz", optimizer=opt2)
    assert_same_params(other, params)
    assert opt2.param_groups[0]["lr"] == 0.1
    assert_same_state(opt2.state_dict(), opt.state_dict())


def test_save_without_optimizer_and_with_optimizer_only(tmp_path):
    params = make_params()
    save(tmp_path / "p.npz", params)
    ckpt = load(tmp_path / "p.npz")
    assert ckpt.optimizer_class is None and ckpt.optimizer_state is None
    assert_same_params(ckpt.params, params)
    with np.load(tmp_path / "p.npz") as npz:  # still a plain .npz for numpy
        np.testing.assert_array_equal(npz["p0"], params["W1"])

    opt = fo.SGD(params)
    save(tmp_path / "o.npz", None, opt)
    assert_same_params(load(tmp_path / "o.npz").params, params)


def test_save_overwrites_and_keeps_file_mode(tmp_path):
    params = make_params()
    path = tmp_path / "c.npz"
    save(path, params, metadata={"v": 1})
    os.chmod(path, 0o640)
    params["W1"] += 1
    save(path, params, metadata={"v": 2})
    assert load(path).metadata == {"v": 2}
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["c.npz"]


# -- mismatches: a clear error, and nothing written ------------------------------


def _saved(tmp_path, cls="Adam", grouped=False):
    params = make_params()
    Opt = getattr(fo, cls)
    opt = Opt(as_groups(params, {}) if grouped else params)
    opt.step(grads_for(params, 1))
    path = tmp_path / "c.npz"
    save(path, params, opt)
    return path


def _drop(d, k):
    return {n: v for n, v in d.items() if n != k}


def _replace(d, k, v):
    return {**d, k: v}


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


# (name, make target params from fresh ones, optimizer class, error, message regex)
LOAD_MISMATCHES = [
    ("missing-name", lambda p: _drop(p, "b1"), None, ValueError, r"missing from params: \['b1'\]"),
    ("extra-name", lambda p: {**p, "W3": np.zeros(3)}, None, ValueError,
     r"not in the checkpoint: \['W3'\]"),
    ("renamed", lambda p: {("V1" if k == "W1" else k): v for k, v in p.items()}, None,
     ValueError, r"names differ"),
    ("shape", lambda p: _replace(p, "W1", np.zeros((5, 7), np.float32)), None, ValueError,
     r"params\['W1'\] has shape \(5, 7\), the checkpoint \(7, 5\)"),
    ("0d-vs-1d", lambda p: _replace(p, "s", np.zeros(1)), None, ValueError, r"params\['s'\]"),
    ("dtype", lambda p: _replace(p, "b1", np.zeros(5, np.float32)), None, TypeError,
     r"params\['b1'\] has dtype float32, the checkpoint float64"),
    ("list-vs-dict", lambda p: list(p.values()), None, ValueError, r"named parameters"),
    ("not-array", lambda p: _replace(p, "b1", [0.0] * 5), None, TypeError,
     r"params\['b1'\] must be a numpy.ndarray"),
    ("read-only", lambda p: _replace(p, "b1", _readonly(p["b1"])), None, ValueError,
     r"read-only"),
    ("kind-AdamW", lambda p: p, "AdamW", ValueError, r"into a AdamW: the checkpoint is of a Adam"),
    ("kind-SGD", lambda p: p, "SGD", ValueError, r"checkpoint is of a Adam"),
    ("kind-Momentum", lambda p: p, "Momentum", ValueError, r"checkpoint is of a Adam"),
    ("groups", lambda p: p, "Adam-2groups", ValueError, r"parameter groups"),
]


@pytest.mark.parametrize("name,target,opt_cls,exc,match", LOAD_MISMATCHES,
                         ids=[m[0] for m in LOAD_MISMATCHES])
def test_load_mismatch_is_clear_and_writes_nothing(tmp_path, name, target, opt_cls, exc, match):
    path = _saved(tmp_path)
    before_file = path.read_bytes()
    fresh = {k: np.full_like(v, 7) for k, v in make_params().items()}
    params = target(fresh)
    opt = None
    if opt_cls is not None:
        if opt_cls == "Adam-2groups":
            opt = fo.Adam(as_groups(fresh, {}))
        else:
            opt = getattr(fo, opt_cls)(fresh)
        opt.step(grads_for(fresh, 5))
        opt_before = opt.state_dict()
    snapshot = {k: v.copy() for k, v in fresh.items()}
    with pytest.raises(exc, match=match) as info:
        load(path, params, opt if opt is not None else fo.Adam(fresh))
    assert str(path) in str(info.value)
    for k in fresh:
        assert fresh[k].tobytes() == snapshot[k].tobytes(), f"{k} was written"
    if opt is not None:
        assert_same_state(opt.state_dict(), opt_before)
    assert path.read_bytes() == before_file


def test_load_into_optimizer_of_other_model_writes_nothing(tmp_path):
    """Params fit, but the optimizer is bound to a model of other shapes."""
    path = _saved(tmp_path)
    fresh = {k: np.full_like(v, 7) for k, v in make_params().items()}
    other = {k: np.zeros(v.shape + (2,), v.dtype) for k, v in fresh.items()}
    opt = fo.Adam(other)
    with pytest.raises(ValueError, match="shape") as info:
        load(path, fresh, opt)
    assert str(path) in str(info.value)
    assert all((v == 7).all() for v in fresh.values())
    assert all(d["step"] == 0 for d in opt.state.values())


def test_load_optimizer_from_checkpoint_without_one(tmp_path):
    params = make_params()
    save(tmp_path / "p.npz", params)
    with pytest.raises(ValueError, match="holds no optimizer state"):
        load(tmp_path / "p.npz", params, fo.SGD(params))


def _bad_metadata():
    return {"x": object()}


# (name, args for save, error, regex)
SAVE_ERRORS = [
    ("params-array", lambda p, o: (np.zeros(3), None), TypeError, r"got a single|ndarray"),
    ("params-str", lambda p, o: ("abc", None), TypeError, r"params must be a dict"),
    ("params-none", lambda p, o: (None, None), TypeError, r"needs params"),
    ("name-not-str", lambda p, o: ({1: np.zeros(2)}, None), TypeError, r"names must be str"),
    ("not-array", lambda p, o: ({"a": [1.0]}, None), TypeError, r"params\['a'\] must be"),
    ("object-dtype", lambda p, o: ({"a": np.array([None])}, None), TypeError, r"dtype object"),
    ("opt-not-optimizer", lambda p, o: (p, "adam"), TypeError, r"optimizer must be"),
    ("opt-unbound", lambda p, o: (p, fo.Adam()), ValueError, r"no parameters yet"),
    ("opt-other-names", lambda p, o: (_drop(p, "b1"), o), ValueError,
     r"different parameters"),
    ("opt-other-shape", lambda p, o: (_replace(p, "b1", np.zeros(6)), o), ValueError,
     r"params\['b1'\]"),
    ("opt-other-count", lambda p, o: (list(p.values())[:2], o), ValueError,
     r"optimizer has 5 parameters but params has 2"),
]


@pytest.mark.parametrize("name,args,exc,match", SAVE_ERRORS, ids=[e[0] for e in SAVE_ERRORS])
def test_save_errors_write_nothing(tmp_path, name, args, exc, match):
    params = make_params()
    opt = fo.Adam(params)
    path = tmp_path / "c.npz"
    save(path, params, opt, metadata={"v": "old"})
    before = path.read_bytes()
    p, o = args(params, opt)
    with pytest.raises(exc, match=match):
        save(path, p, o)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["c.npz"]


@pytest.mark.parametrize("metadata,match", [
    ({"x": object()}, "JSON values"), ({"x": float("nan")}, "JSON values"), ([1], "dict"),
])
def test_save_bad_metadata_writes_nothing(tmp_path, metadata, match):
    with pytest.raises(TypeError, match=match):
        save(tmp_path / "c.npz", make_params(), metadata=metadata)
    assert os.listdir(tmp_path) == []


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(tmp_path / "nope" / "c.npz", make_params())


def test_numpy_metadata_values_are_stored_as_json(tmp_path):
    save(tmp_path / "c", make_params(), metadata={"loss": np.float32(0.5), "n": np.int64(3)})
    assert load(tmp_path / "c").metadata == {"loss": 0.5, "n": 3}


# -- corruption and truncation ------------------------------------------------------


def _small_checkpoint(tmp_path):
    params = {"W": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(2)}
    opt = fo.Adam(params)
    opt.step({"W": np.ones((3, 4), np.float32), "b": np.ones(2)})
    path = tmp_path / "c.npz"
    save(path, params, opt, metadata={"note": "x"})
    return path, path.read_bytes()


def test_every_flipped_byte_and_every_truncation_is_detected(tmp_path):
    path, raw = _small_checkpoint(tmp_path)
    tried = 0
    for i in range(len(raw)):
        for mask in (0x01, 0x80):
            bad = bytearray(raw)
            bad[i] ^= mask
            path.write_bytes(bytes(bad))
            with pytest.raises(ValueError, match=r"c\.npz.*(not a|truncated|checksum)"):
                load(path)
            tried += 1
    for n in range(len(raw)):
        path.write_bytes(raw[:n])
        with pytest.raises(ValueError, match=r"c\.npz.*(empty|truncated|not an \.npz)"):
            load(path)
        tried += 1
    path.write_bytes(raw + b"\0")  # appended garbage
    with pytest.raises(ValueError, match="no checksum|checksum"):
        load(path)
    print(f"\ncorrupted/truncated checkpoints tried: {tried + 1}, all detected")


def test_foreign_files_are_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match=r"plain\.npz.*no checksum"):
        load(tmp_path / "plain.npz")
    (tmp_path / "text").write_text("hello")
    with pytest.raises(ValueError, match=r"text.*not an \.npz"):
        load(tmp_path / "text")
    with pytest.raises(FileNotFoundError, match="missing"):
        load(tmp_path / "missing")


def test_newer_format_version_is_refused(tmp_path):
    """A file with a valid checksum but a future format says to upgrade."""
    import json
    from fastoptim import checkpoint as C

    path, raw = _small_checkpoint(tmp_path)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("header.json"))
        arrays = {k: np.load(zf.open(k + ".npy")) for k in header["arrays"]}
    header["version"] = FORMAT_VERSION + 1
    with open(path, "w+b") as f:
        C._write_archive(f, json.dumps(header).encode(), arrays)
    with pytest.raises(ValueError,
                       match=rf"format version {FORMAT_VERSION + 1}.*upgrade fastoptim"):
        load(path)


def _rewrite_header(path, edit):
    import json
    from fastoptim import checkpoint as C

    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("header.json"))
        arrays = {k: np.load(zf.open(k + ".npy")) for k in header["arrays"]}
    edit(header)
    with open(path, "w+b") as f:
        C._write_archive(f, json.dumps(header).encode(), arrays)


def test_group_entries_come_back_as_they_were_saved(tmp_path):
    # README: keys a user or a schedule keeps in a group are saved with the
    # state. JSON alone would turn a tuple into a list and int keys into str.
    params = make_params()
    opt = fo.Adam(params, lr=0.01)
    extra = {"milestones": [10, 20], "window": (3, 4), "names": {1: "a", (2, 3): [4]},
             "tricky": {"__tuple__": 1}, "nested": [{"__items__": (5,)}, (6, [7])],
             "note": "x", "flag": True, "none": None}
    opt.param_groups[0].update(extra)
    path = tmp_path / "c.npz"
    save(path, params, opt)
    opt2 = fo.Adam(make_params(1))
    load(path, None, opt2)
    group = opt2.param_groups[0]
    for k, v in extra.items():
        assert group[k] == v and type(group[k]) is type(v), k
    assert group["names"][(2, 3)] == [4] and type(group["nested"][1]) is tuple
    assert group["betas"] == opt.param_groups[0]["betas"]
    assert type(group["betas"]) is type(opt.param_groups[0]["betas"])


def test_version_1_checkpoints_still_load(tmp_path):
    # Version 1 stored each group as plain JSON (betas as a list).
    params = make_params()
    opt = fo.Adam(params, lr=0.01, betas=(0.8, 0.9))
    opt.step(grads_for(params, 1))
    path = tmp_path / "c.npz"
    save(path, params, opt)

    def to_v1(header):
        header["version"] = 1
        for g in header["optimizer"]["param_groups"]:
            g["betas"] = g["betas"]["__tuple__"]
    _rewrite_header(path, to_v1)
    opt2 = fo.Adam(make_params(1))
    ck = load(path, None, opt2)
    assert ck.version == 1
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9)
    assert_same_state(opt.state_dict(), opt2.state_dict())


def test_save_to_a_directory_is_refused_before_writing(tmp_path):
    params = make_params()
    opt = fo.Adam(params)
    (tmp_path / "d").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        save(tmp_path / "d", params, opt)
    assert os.listdir(tmp_path) == ["d"] and os.listdir(tmp_path / "d") == []


# -- crash safety -----------------------------------------------------------------

SAVER = textwrap.dedent("""
    import os, sys
    if __name__ == "__main__":
        sys.path.insert(0, sys.argv[2])
    import numpy as np
    import fastoptim as fo
    from fastoptim.checkpoint import load, save

    def grads_for(step):
        rng = np.random.default_rng(step)
        return {"W": rng.standard_normal((256, 1024), dtype=np.float32),
                "b": rng.standard_normal(1024)}

    def model():
        params = {"W": np.zeros((256, 1024), np.float32), "b": np.zeros(1024)}
        return params, fo.Adam(params, lr=1e-2, amsgrad=True)

    if __name__ == "__main__":
        path = sys.argv[1]
        params, opt = model()
        if os.path.exists(path):
            load(path, params, opt)
        print("ready", flush=True)
        while True:  # resume, train, save: killed at random points by the test
            step = opt.state[0]["step"] + 1
            opt.step(grads_for(step))
            save(path, params, opt, metadata={"step": step})
""")


def test_killed_saver_always_leaves_a_complete_checkpoint(tmp_path):
    """SIGKILL a resume-train-save loop many times; the file is always one complete save."""
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    ns: dict = {}
    exec(compile(SAVER.replace('if __name__ == "__main__":', "if False:"), "saver", "exec"), ns)
    ref_params, ref_opt = ns["model"]()  # the uninterrupted run, advanced as needed
    ckdir = tmp_path / "ck"
    ckdir.mkdir()
    path = ckdir / "model.npz"
    rnd = random.Random(6)
    kills, mid_save, last_step, steps_seen = 0, 0, 0, set()
    t0 = time.monotonic()
    target = 60
    while kills < target:
        proc = subprocess.Popen([sys.executable, str(script), str(path), PYTHON_DIR],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = proc.stdout.readline()
            assert line == b"ready\n", proc.stderr.read().decode()
            time.sleep(rnd.uniform(0.0, 0.15))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        leftovers = [n for n in os.listdir(ckdir) if n != "model.npz"]
        assert all(".fastoptim-tmp." in n for n in leftovers), leftovers
        mid_save += bool(leftovers)
        if not path.exists():
            assert last_step == 0, "the checkpoint disappeared"
            continue
        ckpt = load(path)  # checksum verified
        step = ckpt.metadata["step"]
        assert step >= last_step, "an older checkpoint replaced a newer one"
        while ref_opt.state[0]["step"] < step:
            ref_opt.step(ns["grads_for"](ref_opt.state[0]["step"] + 1))
        assert_same_params(ckpt.params, ref_params)
        assert_same_state(ckpt.optimizer_state, ref_opt.state_dict())
        last_step = step
        steps_seen.add(step)
    elapsed = time.monotonic() - t0

    # A later save removes what killed writers left and leaves only the checkpoint.
    ckpt = load(path)
    save(path, ckpt.params, metadata=ckpt.metadata)
    assert os.listdir(ckdir) == ["model.npz"]
    print(f"\nkill points survived: {kills} ({mid_save} mid-save, leaving a temporary file), "
          f"checkpoint advanced to step {last_step} over {len(steps_seen)} distinct saves, "
          f"{elapsed:.1f} s")
    assert mid_save > 0 and last_step > 0


def test_module_docstring_example_runs():
    import doctest

    from fastoptim import checkpoint

    result = doctest.testmod(checkpoint, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
