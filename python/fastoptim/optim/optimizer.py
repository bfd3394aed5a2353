"""The optimizer base class: parameter groups, state, binding to the C++ plan."""

from __future__ import annotations

import copy
import operator
import threading
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .. import _core
from ._rules import Hyper, RuleSpec, empty_like_aligned

__all__ = ["Optimizer"]


def _flatten(params, first: int = 0) -> tuple[list[dict], list, list, bool]:
    """Split ``params`` into groups.

    Returns (group overrides, flat keys, flat arrays, named) where each
    override dict holds the group's own hyperparameters and "n", its count.
    ``first`` is the index of the first group in error messages (nonzero
    for groups added to a bound optimizer).
    """
    if isinstance(params, np.ndarray):
        raise TypeError(
            "params must be a dict of arrays, a list of arrays or a list of parameter groups, "
            "got a single numpy.ndarray; pass [array]"
        )
    if isinstance(params, (str, bytes)) or params is None:
        raise TypeError(f"params must be a dict or a list, got {type(params).__name__}")
    if isinstance(params, Mapping):
        raw_groups: List[Any] = [{"params": params}]
    else:
        try:
            items = list(params)
        except TypeError:
            raise TypeError(
                f"params must be a dict or a list, got {type(params).__name__}") from None
        if not items:
            raise ValueError("params is empty: the optimizer needs at least one array")
        if all(isinstance(g, Mapping) for g in items):
            raw_groups = items
        elif any(isinstance(g, Mapping) for g in items):
            raise TypeError("params mixes arrays and parameter groups (dicts); use one or the other")
        else:
            raw_groups = [{"params": items}]

    overrides, keys, arrays = [], [], []
    named = True
    for gi, g in enumerate(raw_groups, first):
        if "params" not in g:
            raise ValueError(f"param_groups[{gi}] has no 'params' entry")
        gp = g["params"]
        if isinstance(gp, np.ndarray):
            raise TypeError(f"param_groups[{gi}]['params'] must be a dict or a list of arrays, "
                            "got a single numpy.ndarray; pass [array]")
        if isinstance(gp, Mapping):
            gkeys, garrays = list(gp.keys()), list(gp.values())
        else:
            if isinstance(gp, (str, bytes)):
                raise TypeError(f"param_groups[{gi}]['params'] must be a dict or a list of arrays")
            garrays = list(gp)
            gkeys = [None] * len(garrays)
            named = False
        if not garrays:
            where = ("params" if len(raw_groups) == 1 and not first
                     else f"param_groups[{gi}]['params']")
            raise ValueError(f"{where} is empty: the optimizer needs at least one array")
        ov = {k: v for k, v in g.items() if k != "params"}
        ov["n"] = len(garrays)
        overrides.append(ov)
        keys.extend(gkeys)
        arrays.extend(garrays)
    if named:
        seen = set()
        for k in keys:
            if k in seen:
                raise ValueError(f"parameter name {k!r} appears in more than one group")
            seen.add(k)
    return overrides, keys, arrays, named


_SCALAR_TYPES = frozenset({float, int, bool, str, type(None)})
_MAX_STEP = 1 << 62  # step counts are int64 in C++; far beyond any real run


def _cache_key(raw: tuple) -> tuple:
    """(key, immutable): what the validation of a group's hyperparameters depends on.

    The key holds types and values. Types are part of it because 0 == False
    and 1.0 == True would otherwise let an invalid edit pass as unchanged;
    sequences (a betas list, tuple or array) are copied element by element,
    so an in-place edit is seen. ``immutable`` is whether every value is a
    scalar or a tuple of scalars (so identity implies equality).
    """
    types = tuple(map(type, raw))
    if _SCALAR_TYPES.issuperset(types):
        return (raw, types), True
    immutable = True
    key: List[tuple] = []
    for v, t in zip(raw, types):
        if hasattr(v, "__len__"):  # str too: it is a scalar for ``immutable``
            elems = tuple(v)
            etypes = tuple(map(type, elems))
            key.append((t, elems, etypes))
            if t not in _SCALAR_TYPES and not (t is tuple and _SCALAR_TYPES.issuperset(etypes)):
                immutable = False
        else:
            key.append((t, v))
            if t not in _SCALAR_TYPES:
                immutable = False
    return tuple(key), immutable


def _members(arrays: Sequence[np.ndarray], group_of: Sequence[int]) -> List[List[np.ndarray]]:
    """The arrays of each group, in order."""
    out: List[List[np.ndarray]] = [[] for _ in range(max(group_of, default=-1) + 1)]
    for a, gi in zip(arrays, group_of):
        out[gi].append(a)
    return out


class Optimizer:
    """Base class of the fastoptim optimizers.

    Holds parameter groups (``param_groups``: a list of dicts with the
    arrays under ``"params"`` and the group's hyperparameters, editable
    between steps), the state buffers and step counts of every parameter,
    and a C++ plan with all arrays bound, so a whole step is one call.
    """

    _spec: RuleSpec

    def __init__(self, params, defaults: Hyper, *, skip_nonfinite: bool = False):
        self.defaults: Hyper = self._spec.check(defaults, "")
        # A group's hyperparameters as one tuple, read in C (the per-step check).
        self._get_hypers = operator.itemgetter(*self.defaults)
        self._hyper_keys = tuple(self.defaults)
        if not isinstance(skip_nonfinite, (bool, np.bool_)):
            raise TypeError(f"skip_nonfinite must be True or False, got {skip_nonfinite!r}")
        self.skip_nonfinite = bool(skip_nonfinite)
        #: Steps skipped because a gradient held NaN or Inf (skip_nonfinite=True).
        self.skipped_steps = 0
        self.param_groups: List[Dict[str, Any]] = []
        self._plan: Optional[_core.Plan] = None
        self._memo: Optional[tuple] = None  # see _hypers and step
        self._pending_state: Optional[dict] = None
        # step, state_dict and load_state_dict from several threads take turns:
        # a snapshot never sees half a step (the kernels run without the GIL).
        self._lock = threading.RLock()
        if params is not None:
            self._bind(params)

    # -- binding -------------------------------------------------------------

    def _bind(self, params) -> None:
        overrides, keys, arrays, named = _flatten(params)
        groups: List[Dict[str, Any]] = []
        checked: List[Hyper] = []
        group_of: List[int] = []
        start = 0
        for gi, ov in enumerate(overrides):
            n = ov.pop("n")
            hyper, h = self._group_hyper(gi, ov, f"param_groups[{gi}]" if len(overrides) > 1 else "")
            checked.append(h)
            group = {"params": arrays[start:start + n], **hyper}
            groups.append(group)
            group_of.extend([gi] * n)
            start += n
        names = [repr(k) for k in keys] if named else [str(i) for i in range(len(arrays))]
        self._check_arrays(arrays, group_of, names)

        self.param_groups = groups
        self._keys = keys if named else None
        self._names = names
        self._arrays = list(arrays)
        self._group_of = group_of
        self._members = _members(self._arrays, group_of)
        self._steps = np.zeros(len(arrays), np.int64)
        self._state: List[List[Optional[np.ndarray]]] = [
            [None] * len(self._spec.slots) for _ in arrays
        ]
        self._packed: List[Optional[tuple]] = [None] * len(groups)
        self._raw: List[Optional[tuple]] = [None] * len(groups)  # see _hypers
        self._memo = None
        for gi, h in enumerate(checked):
            self._state = self._with_slots(self._state, gi, h)
        self._plan = self._new_plan(self._state)
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            try:
                self.load_state_dict(pending)
            except Exception:
                # Unbind: the state waits for params it fits, nothing is lost.
                self._plan = None
                self.param_groups = []
                self._pending_state = pending
                raise

    def add_param_group(self, param_group: Mapping) -> None:
        """Add a group of parameters, as ``torch.optim.Optimizer.add_param_group``.

        ``param_group`` is a dict with the arrays under ``"params"`` (a dict
        by name when this optimizer's params are named, else a list) and any
        hyperparameters of its own; the rest come from the constructor's
        defaults. The new parameters start at step 0 with fresh state, and
        their grads follow the existing ones (in a flat list) or are looked
        up by name. Everything is checked before anything changes: names
        and arrays already bound, arrays that overlap bound ones, and
        invalid hyperparameters are refused.

        On an optimizer built without params, the group becomes its first.
        With the course's ``update(params, grads)``, pass params that hold
        the new arrays too from then on (the list of groups, for instance).
        """
        with self._lock:
            if not isinstance(param_group, Mapping):
                raise TypeError("param_group must be a dict with a 'params' entry, got "
                                f"{type(param_group).__name__}")
            if self._plan is None:
                self._bind([param_group])
                return
            gi = len(self.param_groups)
            if len(self._raw) != gi:
                raise ValueError(
                    f"param_groups has {gi} groups but this optimizer was built with "
                    f"{len(self._raw)}: add groups with add_param_group, not by editing "
                    "param_groups")
            overrides, keys, arrays, named = _flatten([param_group], first=gi)
            named_self = self._keys is not None
            if named != named_self:
                raise TypeError(
                    "param_group['params'] must be a dict by name, as this optimizer's params "
                    "are" if named_self else
                    "param_group['params'] must be a list of arrays, as this optimizer's params "
                    "are (its grads are a list in parameter order)")
            if named:
                assert self._keys is not None
                known = set(self._keys)
                clash = [k for k in keys if k in known]
                if clash:
                    raise ValueError(f"param_group['params'] has {clash[0]!r}, which is already "
                                     "a parameter of this optimizer")
            ov = overrides[0]
            n = ov.pop("n")
            hyper, checked = self._group_hyper(gi, ov, f"param_groups[{gi}]")
            start = len(self._arrays)
            names = ([repr(k) for k in keys] if named
                     else [str(i) for i in range(start, start + n)])
            all_arrays = self._arrays + list(arrays)
            group_of = self._group_of + [gi] * n
            steps = np.concatenate([self._steps, np.zeros(n, np.int64)])
            all_names = self._names + names
            # The new arrays are checked before their state is allocated, and
            # the whole new plan, which also checks them against every bound
            # state buffer, is built before anything here changes.
            self._check_arrays(all_arrays, group_of, all_names)
            needed = self._spec.needed(checked)
            new_state: List[List[Optional[np.ndarray]]] = [
                [self._spec.new_buffer(slot, a, checked) if need else None
                 for slot, need in zip(self._spec.slots, needed)]
                for a in arrays]
            all_state = self._state + new_state
            plan = _core.Plan(self._spec.name, all_arrays, all_state, group_of, steps, all_names)

            self.param_groups.append({"params": list(arrays), **hyper})
            if named:
                assert self._keys is not None
                self._keys = self._keys + keys
            self._names = all_names
            self._arrays = all_arrays
            self._group_of = group_of
            self._members = _members(all_arrays, group_of)
            self._steps = steps
            self._state = all_state
            self._packed.append(None)
            self._raw.append(None)
            self._memo = None
            self._plan = plan

    def _group_hyper(self, gi: int, own: dict, where: str) -> tuple[Dict[str, Any], Hyper]:
        """A group's hyperparameters (the defaults, then its own) and their checked form."""
        unknown = [k for k in own if k not in self.defaults]
        if unknown:
            raise ValueError(f"param_groups[{gi}] has unknown hyperparameter {unknown[0]!r}; "
                             f"{type(self).__name__} takes {sorted(self.defaults)}")
        hyper = {**self.defaults, **own}
        return hyper, self._spec.check(hyper, where)

    def _check_arrays(self, arrays: Sequence, group_of: List[int], names: List[str]) -> None:
        """Type, dtype, layout and aliasing of every array, before any state is allocated."""
        _core.Plan(self._spec.name, list(arrays), [[] for _ in arrays], group_of,
                   np.zeros(len(arrays), np.int64), names)

    def _with_slots(self, state: list, gi: int, hyper: Hyper) -> list:
        """``state`` with the buffers this group's settings need allocated.

        The same table when nothing is missing; else a new table (rows
        copied) holding new buffers at their initial values, so nothing
        live changes until the caller installs it with a plan built on it.
        """
        needed = self._spec.needed(hyper)
        if not any(needed):
            return state
        copied = False
        for i, g in enumerate(self._group_of):
            if g != gi:
                continue
            for k, need in enumerate(needed):
                if need and state[i][k] is None:
                    if not copied:
                        state, copied = [list(row) for row in state], True
                    state[i][k] = self._spec.new_buffer(self._spec.slots[k], self._arrays[i],
                                                        hyper)
        return state

    def _new_plan(self, state: list) -> _core.Plan:
        return _core.Plan(self._spec.name, self._arrays, state, self._group_of, self._steps,
                          self._names)

    def _require_bound(self, what: str) -> None:
        if self._plan is None:
            raise ValueError(
                f"{what}: this {type(self).__name__} has no parameters yet; pass params to the "
                "constructor or call update(params, grads), which binds them on the first call"
            )

    # -- stepping ------------------------------------------------------------

    def _hypers(self) -> tuple[list, Optional[tuple]]:
        """The packed hyperparameters of every group, validated when they changed.

        Also returns None, or ``(state, plan)`` when a setting needs buffers
        the bound plan lacks: the caller installs them once its step has
        been accepted, so a refused step adds no buffer.
        """
        out = []
        state = self._state
        get = self._get_hypers
        groups = self.param_groups  # read once: another thread may assign a new list
        multi = len(groups) > 1
        if len(groups) != len(self._raw):
            raise ValueError(
                f"param_groups has {len(groups)} groups but this optimizer was built "
                f"with {len(self._raw)}: add a group with add_param_group(); groups cannot be "
                "removed")
        self._check_group_params(groups)
        for gi, group in enumerate(groups):
            # self._raw[gi]: (cache key, the value objects themselves when all
            # are immutable) as of the last validation, or None.
            cached = self._raw[gi]
            try:
                values = get(group)
                if cached is not None and cached[1] is not None and all(
                        map(operator.is_, values, cached[1])):
                    # The very same immutable objects: nothing can have changed.
                    out.append(self._packed[gi])
                    continue
                key, immutable = _cache_key(values)
                same = cached is not None and key == cached[0]
            except Exception:
                values, key, immutable, same = None, None, False, False
            if not same:
                for k in self._hyper_keys:
                    if k not in group:
                        raise ValueError(f"param_groups[{gi}] has lost its {k!r} entry")
                # Check the very objects read above, so what is cached (and
                # remembered for the one-call step) is what was checked.
                source = dict(zip(self._hyper_keys, values)) if values is not None else group
                h = self._spec.check(source, f"param_groups[{gi}]" if multi else "")
                state = self._with_slots(state, gi, h)
                self._packed[gi] = self._spec.pack(h)
            self._raw[gi] = (key, values if immutable else None)
            out.append(self._packed[gi])
        # Checks the bound arrays again too (a param made read-only since).
        pending = None if state is self._state else (state, self._new_plan(state))
        # Let the plan take the next steps in one call while the groups, their
        # dicts and their (immutable) value objects stay the very same ones.
        seen = tuple(raw[1] if raw is not None else None for raw in self._raw)
        if type(groups) is list and all(type(g) is dict for g in groups) and all(
                v is not None for v in seen):
            grad_keys = tuple(self._keys) if self._keys is not None else None
            self._memo = (groups, tuple(groups), self._hyper_keys, seen, tuple(out), grad_keys)
        else:
            self._memo = None
        return out, pending

    def _check_group_params(self, groups: list) -> None:
        """Refuse a group whose "params" no longer lists the arrays bound to it."""
        for gi, (group, mine) in enumerate(zip(groups, self._members)):
            try:
                ps = group["params"]
            except Exception:  # noqa: BLE001 - any failure is a group without its params
                ps = None
            if type(ps) is not list or len(ps) != len(mine) or \
                    not all(map(operator.is_, ps, mine)):
                raise ValueError(
                    f"param_groups[{gi}]['params'] no longer lists the arrays this optimizer "
                    "was built with; arrays are bound once (assign into them in place, add "
                    "new ones with add_param_group(), or make a new optimizer)")

    def _grad_list(self, grads) -> Sequence:
        n = len(self._arrays)
        if isinstance(grads, Mapping):
            if self._keys is None:
                raise TypeError("grads is a dict but the params were given as a list: pass the "
                                "grads as a list in parameter order")
            try:
                out = [grads[k] for k in self._keys]
            except KeyError:
                missing = [k for k in self._keys if k not in grads]
                raise ValueError(f"grads is missing {missing[0]!r} "
                                 f"({len(missing)} parameter(s) without a gradient)") from None
            if len(grads) != n:
                known = set(self._keys)
                extra = [k for k in grads if k not in known]
                raise ValueError(f"grads has {extra[0]!r}, which is not a parameter "
                                 f"of this optimizer")
            return out
        if isinstance(grads, (list, tuple)):
            if len(grads) != n:
                raise ValueError(f"grads has {len(grads)} entries but the optimizer has {n} "
                                 "parameters")
            return grads
        if isinstance(grads, np.ndarray):
            raise TypeError("grads must be a dict or a list of arrays, got a single "
                            "numpy.ndarray; pass [grad]")
        raise TypeError(f"grads must be a dict or a list of arrays, got {type(grads).__name__}")

    def step(self, grads) -> Optional[bool]:
        """Update every parameter in place from ``grads``.

        ``grads`` has the structure of the params: a dict by name (when
        the params were given by name) or a list in parameter order. All
        grads and hyperparameters are checked before anything is written.

        Returns None; with ``skip_nonfinite=True``, returns whether the step
        was applied: a step whose grads hold any NaN or Inf is skipped whole
        (params, state and step counts untouched) and counted in
        ``skipped_steps``. Without it, a NaN gradient propagates into the
        params exactly as in torch.optim.

        Thread safety: calls from several threads take turns (with
        :meth:`state_dict` and :meth:`load_state_dict` too). A process that
        forks while another of its threads is inside ``step`` must not use
        this optimizer in the child (as for any lock held across fork).
        """
        with self._lock:
            skip = bool(self.skip_nonfinite)  # read once: the kernels run without the GIL
            plan = self._plan
            if plan is not None:
                # Every step of a training loop: nothing changed since the last
                # full check (see _hypers), so one call does it all.
                applied = plan.step_if_unchanged(grads, self.param_groups, self._memo, skip)
                if applied is not None:
                    if not skip:
                        return None
                    if not applied:
                        self.skipped_steps += 1
                    return applied
            else:
                self._require_bound("step()")
            glist = self._grad_list(grads)
            try:
                hypers, pending = self._hypers()
                # A setting that needs a new buffer comes with a new plan, taken
                # on only if this step is accepted.
                plan = self._plan if pending is None else pending[1]
                assert plan is not None  # bound above
                applied = plan.step(glist, hypers, skip)
            except BaseException:
                # Validate everything afresh next time: a group recorded as
                # checked above may need the buffers just discarded.
                self._raw = [None] * len(self._raw)
                self._memo = None
                raise
            if pending is not None:
                self._state, self._plan = pending
            if not skip:
                return None
            if not applied:
                self.skipped_steps += 1
            return applied

    def update(self, params, grads) -> Optional[bool]:
        """The course's calling style: ``opt.update(params, grads)`` every step.

        Binds ``params`` on the first call; later calls must pass the same
        arrays (they are updated in place, so the layers that hold them see
        the change).
        """
        with self._lock:
            if self._plan is None:
                self._bind(params)
            else:
                self._check_same(params)
            return self.step(grads)

    def _check_same(self, params) -> None:
        # Fast path (every step): the very list of bound arrays, no _flatten.
        if isinstance(params, (list, tuple)) and len(params) == len(self._arrays) and all(
                map(operator.is_, params, self._arrays)):
            return
        if self._keys is not None and isinstance(params, Mapping):
            if len(params) == len(self._keys) and all(
                    map(operator.is_, map(params.get, self._keys), self._arrays)):
                return
        else:
            _, _, arrays, _ = _flatten(params)
            if len(arrays) == len(self._arrays) and all(
                    a is b for a, b in zip(arrays, self._arrays)):
                return
        raise ValueError(
            "params are not the arrays bound on the first update(): an optimizer updates its "
            "arrays in place; to change a weight, assign into it (params[k][...] = new) rather "
            "than replacing it, or make a new optimizer"
        )

    # -- state ---------------------------------------------------------------

    @property
    def state(self) -> Dict[int, Dict[str, Any]]:
        """Per-parameter state by flat index: ``{"step": int, <buffer name>: array}``.

        The arrays are the live buffers (not copies).
        """
        if self._plan is None:
            return {}
        out = {}
        for i, slots in enumerate(self._state):
            d: Dict[str, Any] = {"step": int(self._steps[i])}
            for name, buf in zip(self._spec.slots, slots):
                if buf is not None:
                    d[name] = buf
            out[i] = d
        return out

    def state_dict(self) -> Dict[str, Any]:
        """A snapshot (copies) of all state and hyperparameters.

        ``{"state": {i: {"step": int, <buffer>: array}}, "param_groups":
        [{<hyperparameters>, "params": [i, ...], "param_names": [...]}]}``,
        with parameters numbered in order across groups as in torch.
        Never sees half a step taken by another thread.
        """
        with self._lock:
            return self._state_dict()

    def _state_dict(self) -> Dict[str, Any]:
        if self._plan is None:
            return {"state": {}, "param_groups": []}
        state = {i: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in d.items()}
                 for i, d in self.state.items()}
        groups = []
        start = 0
        for group in self.param_groups:
            n = len(group["params"])
            g = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            g["params"] = list(range(start, start + n))
            if self._keys is not None:
                g["param_names"] = list(self._keys[start:start + n])
            groups.append(g)
            start += n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore state and hyperparameters from :meth:`state_dict`.

        Everything is checked against the bound parameters (group sizes,
        buffer names, shapes, dtypes) before anything changes. Each group
        gets the saved group's entries back, hyperparameters and any other
        key kept in it (such as a schedule's ``"initial_lr"``). Called
        before the parameters are bound, the state is applied when they are.
        """
        with self._lock:
            self._load_state_dict(state_dict)

    def _load_state_dict(self, state_dict: Mapping) -> None:
        if not isinstance(state_dict, Mapping) or "state" not in state_dict or \
                "param_groups" not in state_dict:
            raise TypeError("state_dict must be a dict with 'state' and 'param_groups', as "
                            "returned by state_dict()")
        if self._plan is None:
            self._pending_state = copy.deepcopy(dict(state_dict))
            return
        groups = state_dict["param_groups"]
        if not isinstance(groups, (list, tuple)) or \
                not all(isinstance(g, Mapping) for g in groups):
            raise TypeError("state_dict['param_groups'] must be a list of dicts, as returned by "
                            f"state_dict(), got {type(groups).__name__}")
        if not isinstance(state_dict["state"], Mapping):
            raise TypeError("state_dict['state'] must be a dict {parameter index: state}, got "
                            f"{type(state_dict['state']).__name__}")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"state_dict has {len(groups)} parameter groups, the optimizer has "
                             f"{len(self.param_groups)}")
        new_hypers = []
        entries: List[Dict[str, Any]] = []
        start = 0
        for gi, (g, mine) in enumerate(zip(groups, self.param_groups)):
            ids = g.get("params", [])
            if not isinstance(ids, (list, tuple)):
                raise TypeError(f"state_dict['param_groups'][{gi}]['params'] must be a list of "
                                f"parameter indices, got {type(ids).__name__}")
            if len(ids) != len(mine["params"]):
                raise ValueError(f"state_dict['param_groups'][{gi}] has {len(ids)} parameters, "
                                 f"the optimizer's group has {len(mine['params'])}")
            names = g.get("param_names")
            if names is not None and not isinstance(names, (list, tuple)):
                raise TypeError(f"state_dict['param_groups'][{gi}]['param_names'] must be a list "
                                f"of names, got {type(names).__name__}")
            if names is not None and self._keys is not None:
                if list(names) != list(self._keys[start:start + len(ids)]):
                    raise ValueError(f"state_dict['param_groups'][{gi}] is for parameters "
                                     f"{list(names)!r}, not {self._keys[start:start + len(ids)]!r}")
            hyper = {k: g[k] for k in self.defaults if k in g}
            missing = [k for k in self.defaults if k not in g]
            if missing:
                raise ValueError(f"state_dict['param_groups'][{gi}] lacks {missing[0]!r}")
            new_hypers.append(self._spec.check(hyper, f"state_dict['param_groups'][{gi}]"))
            # Copied now, so a value that cannot be copied fails before anything changes.
            try:
                entries.append({k: copy.deepcopy(v) for k, v in g.items()
                                if k not in ("params", "param_names")})
            except Exception as e:
                raise TypeError(f"state_dict['param_groups'][{gi}] holds a value that cannot be "
                                f"copied: {e}") from e
            start += len(ids)

        n = len(self._arrays)
        loaded: Dict[int, Dict[str, Any]] = {}
        for i, d in state_dict["state"].items():
            where = f"state_dict['state'][{i!r}]"
            if not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
                raise ValueError(f"{where}: no parameter has index {i!r}")
            i = int(i)
            if not isinstance(d, Mapping):
                raise TypeError(f"{where} must be a dict of the step and state buffers, got "
                                f"{type(d).__name__}")
            step = d.get("step", 0)
            if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)) \
                    or not 0 <= step <= _MAX_STEP:
                raise ValueError(f"{where}['step'] must be an integer in [0, 2**62], got {step!r}")
            p = self._arrays[i]
            bufs = {}
            for name, arr in d.items():
                if name == "step":
                    continue
                if name not in self._spec.slots:
                    raise ValueError(f"{where} has {name!r}, which {type(self).__name__} does not "
                                     f"keep (it keeps {list(self._spec.slots)})")
                if not isinstance(arr, np.ndarray):
                    raise TypeError(f"{where}[{name!r}] must be a numpy.ndarray")
                if arr.dtype != p.dtype:
                    raise TypeError(f"{where}[{name!r}] has dtype {arr.dtype}, the parameter "
                                    f"{p.dtype}")
                if arr.shape != p.shape:
                    raise ValueError(f"{where}[{name!r}] has shape {arr.shape}, the parameter "
                                     f"{p.shape}")
                bufs[name] = arr
            needed = self._spec.needed(new_hypers[self._group_of[i]])
            for k, need in enumerate(needed):
                if need and int(step) > 0 and self._spec.slots[k] not in bufs:
                    raise ValueError(f"{where} lacks {self._spec.slots[k]!r}, which these "
                                     "hyperparameters need after step 0")
            loaded[i] = {"step": int(step), **bufs}

        # The state table the loaded state needs (new buffers where a buffer
        # is loaded or needed and none is bound yet) and its plan, which
        # checks the bound arrays again, before anything changes.
        state = [list(row) for row in self._state]
        for i in range(n):
            for k, name in enumerate(self._spec.slots):
                if name in loaded.get(i, ()) and state[i][k] is None:
                    state[i][k] = empty_like_aligned(self._arrays[i])
        for gi, h in enumerate(new_hypers):
            state = self._with_slots(state, gi, h)
        plan = self._new_plan(state)

        # Everything checked: apply.
        for entry, mine in zip(entries, self.param_groups):
            # Keys a user or a schedule keeps in a group ("initial_lr") come
            # back too, as in torch; the params stay the bound arrays.
            mine.update(entry)
        for i in range(n):
            d = loaded.get(i, {"step": 0})
            self._steps[i] = d["step"]
            hyper = new_hypers[self._group_of[i]]
            for k, name in enumerate(self._spec.slots):
                buf = state[i][k]
                if name in d:
                    assert buf is not None  # allocated above
                    np.copyto(buf, d[name])
                elif buf is not None:
                    buf.fill(self._spec.initial(name, hyper))
        self._state = state
        self._plan = plan
        self._packed = [None] * len(self.param_groups)
        self._raw = [None] * len(self.param_groups)
        self._memo = None

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for gi, g in enumerate(self.param_groups or [dict(self.defaults)]):
            lines.append(f"Parameter Group {gi}")
            for k in sorted(self.defaults):
                lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
