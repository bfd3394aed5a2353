// fastoptim._core.Plan: the arrays of an optimizer bound once, stepped with
// one call per step for all tensors.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "fastoptim/optim.hpp"

namespace py = pybind11;

namespace fastoptim_bindings {

using fastoptim::DType;
using fastoptim::Hyper;
using fastoptim::Rule;
using fastoptim::TensorRef;

namespace {

Rule parse_rule(const std::string& name) {
  if (name == "sgd") return Rule::sgd;
  if (name == "momentum") return Rule::momentum;
  if (name == "adagrad") return Rule::adagrad;
  if (name == "rmsprop") return Rule::rmsprop;
  if (name == "adam") return Rule::adam;
  throw py::value_error("rule must be one of 'sgd', 'momentum', 'adagrad', 'rmsprop', 'adam', got '" +
                        name + "'");
}

// The names of the state slots, as in state_dict() and the docs.
const char* slot_name(Rule rule, int k) {
  static const char* const kNames[5][3] = {
      {nullptr, nullptr, nullptr},
      {"momentum_buffer", nullptr, nullptr},
      {"sum", nullptr, nullptr},
      {"square_avg", "momentum_buffer", "grad_avg"},
      {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
  };
  return kNames[static_cast<int>(rule)][k];
}

// Whether slot k is used by a tensor of this rule under these hyperparameters.
bool slot_needed(Rule rule, int k, const Hyper& h) {
  switch (rule) {
    case Rule::sgd: return false;
    case Rule::momentum:
    case Rule::adagrad: return k == 0;
    case Rule::rmsprop: return k == 0 || (k == 1 && h.momentum > 0) || (k == 2 && h.centered);
    case Rule::adam: return k < 2 || (k == 2 && h.amsgrad);
  }
  return false;
}

// Floats and bools only (what the optimizers' checks produce): reading
// them runs no Python code, so nothing can re-enter a step on this thread
// while it fills its per-thread scratch.
Hyper parse_hyper(py::handle t, std::size_t g) {
  if (!PyTuple_Check(t.ptr()) || PyTuple_GET_SIZE(t.ptr()) != 14)
    throw py::type_error("hypers[" + std::to_string(g) + "] must be a tuple of 14 values");
  auto where = [g](int i) {
    return "hypers[" + std::to_string(g) + "][" + std::to_string(i) + "]";
  };
  auto d = [&](int i) {
    PyObject* o = PyTuple_GET_ITEM(t.ptr(), i);
    if (!PyFloat_Check(o))
      throw py::type_error(where(i) + " must be a float, got " + type_name(o));
    return PyFloat_AS_DOUBLE(o);
  };
  auto b = [&](int i) {
    PyObject* o = PyTuple_GET_ITEM(t.ptr(), i);
    if (!PyBool_Check(o)) throw py::type_error(where(i) + " must be a bool, got " + type_name(o));
    return o == Py_True;
  };
  Hyper h;
  h.lr = d(0);
  h.weight_decay = d(1);
  h.momentum = d(2);
  h.dampening = d(3);
  h.alpha = d(4);
  h.eps = d(5);
  h.beta1 = d(6);
  h.beta2 = d(7);
  h.lr_decay = d(8);
  h.maximize = b(9);
  h.nesterov = b(10);
  h.centered = b(11);
  h.amsgrad = b(12);
  h.decoupled = b(13);
  return h;
}

std::string label(const char* what, const std::string& name) {
  return std::string(what) + "[" + name + "]";
}

class Plan {
 public:
  Plan(const std::string& rule, const py::list& params, const py::list& states,
       const py::list& groups, const py::array& steps, const py::list& names,
       const std::vector<std::string>& slot_labels)
      : rule_(parse_rule(rule)), slot_labels_(slot_labels) {
    const std::size_t n = params.size();
    if (states.size() != n || groups.size() != n || names.size() != n)
      throw py::value_error("params, states, groups and names must have the same length");
    if (slot_labels_.size() > 3) throw py::value_error("slot_labels holds at most 3 names");
    if (!(steps.dtype().kind() == 'i' && steps.itemsize() == 8 && steps.ndim() == 1 &&
          static_cast<std::size_t>(steps.shape(0)) == n && c_contiguous(steps.ptr()) &&
          writeable(steps.ptr()) && aligned(steps.ptr())))
      throw py::value_error("steps must be a writeable contiguous int64 array of length " +
                            std::to_string(n));
    steps_ = steps;
    auto* step_ptr = reinterpret_cast<std::int64_t*>(proxy(steps.ptr())->data);

    std::vector<ByteRange> ranges;  // owner: index into bound_
    for (std::size_t i = 0; i < n; ++i) {
      names_.push_back(py::str(names[i]).cast<std::string>());
      const std::string plabel = label("params", names_[i]);
      PyObject* p = params[i].ptr();
      const DtypeCode code = check_output_array(p, plabel);
      TensorRef t{};
      t.dtype = code == DtypeCode::f32 ? DType::f32 : DType::f64;
      t.p = proxy(p)->data;
      t.n = array_size(p);
      t.step = step_ptr + i;
      t.group = py::cast<int>(groups[i]);
      if (t.group < 0) throw py::value_error("groups must be >= 0");
      n_groups_ = std::max(n_groups_, t.group + 1);
      if (members_.size() < static_cast<std::size_t>(n_groups_)) members_.resize(n_groups_);
      members_[t.group].push_back(p);
      shapes_.push_back(shape_of(p));
      if (t.n) ranges.push_back(byte_range(p, bound_.size()));
      bound_.push_back(Bound{params[i], t.p, tensors_.size(), plabel});

      unsigned present = 0;  // bit k: state slot k is bound
      py::list slots = py::cast<py::list>(states[i]);
      if (slots.size() > 3) throw py::value_error("at most 3 state buffers per tensor");
      for (std::size_t k = 0; k < slots.size(); ++k) {
        PyObject* s = slots[k].ptr();
        if (s == Py_None) continue;
        const char* sname = slot_name(rule_, static_cast<int>(k));
        if (!sname) throw py::value_error("this rule has no state slot " + std::to_string(k));
        const std::string slabel = slot_label(i, static_cast<int>(k));
        const DtypeCode scode = check_output_array(s, slabel);
        if (scode != code)
          throw py::type_error(slabel + " has dtype " + dtype_str(s) + " but " + plabel +
                               " has dtype " + dtype_str(p));
        if (!same_shape(s, shapes_.back()))
          throw py::value_error(slabel + " has shape " + shape_str(shape_of(s)) + " but " +
                                plabel + " has shape " + shape_str(shapes_.back()));
        t.s[k] = proxy(s)->data;
        present |= 1u << k;
        if (t.n) ranges.push_back(byte_range(s, bound_.size()));
        bound_.push_back(Bound{slots[k], t.s[k], tensors_.size(), slabel});
      }
      tensors_.push_back(t);
      present_.push_back(present);
    }
    checked_grad_.assign(n, nullptr);
    // Everything written must be disjoint, or one tensor's update would
    // read another's half-updated values.
    std::sort(ranges.begin(), ranges.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.lo < b.lo; });
    for (std::size_t k = 1; k < ranges.size(); ++k)
      if (ranges[k].lo < ranges[k - 1].hi)
        throw py::value_error(bound_[ranges[k - 1].owner].label + " and " +
                              bound_[ranges[k].owner].label +
                              " share memory; every parameter and state buffer must be a "
                              "separate array");
    written_ = std::move(ranges);
  }

  // The optimizer's per-step shortcut. `memo` is what its last full
  // hyperparameter check saw, (groups, dicts, keys, values, packed,
  // grad_keys): the param_groups list, its group dicts, the hyperparameter
  // keys, per group the (immutable) value objects, their packed sets, and
  // the params' names in order (None for params given as a list). The
  // optimizer keeps it (so the garbage collector sees those references, not
  // a plan). When `groups` is that very list holding those very dicts with
  // those very values, and each group's "params" a list of the very arrays
  // bound to it (identity throughout), steps with the packed sets and
  // returns whether the step was applied; otherwise changes nothing and
  // returns None, and the caller takes the checked path. Grads are a list
  // or tuple in parameter order, or (params by name) a dict holding exactly
  // grad_keys.
  py::object step_if_unchanged(const py::handle& grads, const py::handle& groups,
                               const py::handle& memo, bool skip_nonfinite) {
    PyObject* m = memo.ptr();  // referenced by the caller for the whole call
    if (!PyTuple_Check(m) || PyTuple_GET_SIZE(m) != 6 || PyTuple_GET_ITEM(m, 0) != groups.ptr() ||
        !PyList_Check(groups.ptr()))
      return py::none();
    PyObject* dicts = PyTuple_GET_ITEM(m, 1);
    PyObject* keys = PyTuple_GET_ITEM(m, 2);
    PyObject* values = PyTuple_GET_ITEM(m, 3);
    PyObject* packed = PyTuple_GET_ITEM(m, 4);
    PyObject* grad_keys = PyTuple_GET_ITEM(m, 5);
    if (!PyTuple_Check(dicts) || !PyTuple_Check(keys) || !PyTuple_Check(values) ||
        !PyTuple_Check(packed))
      return py::none();
    const Py_ssize_t ng = PyTuple_GET_SIZE(dicts);
    const Py_ssize_t nk = PyTuple_GET_SIZE(keys);
    PyObject* list = groups.ptr();
    if (PyList_GET_SIZE(list) != ng || PyTuple_GET_SIZE(values) != ng ||
        static_cast<std::size_t>(ng) != members_.size())
      return py::none();
    const auto n = static_cast<Py_ssize_t>(tensors_.size());
    py::object by_name;  // the grads in parameter order, when given by name
    PyObject* glist = grads.ptr();
    if (PyDict_CheckExact(glist)) {
      // Exactly the names (same count, every name found): the checked path
      // gives the errors. A lookup may run Python code (a key's __eq__) that
      // edits the dict, so each grad is referenced as soon as it is found.
      if (!PyTuple_Check(grad_keys) || PyTuple_GET_SIZE(grad_keys) != n ||
          PyDict_GET_SIZE(glist) != n)
        return py::none();
      by_name = py::reinterpret_steal<py::object>(PyList_New(n));
      if (!by_name) throw py::error_already_set();
      for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* v = PyDict_GetItemWithError(glist, PyTuple_GET_ITEM(grad_keys, i));
        if (!v) {
          if (PyErr_Occurred()) PyErr_Clear();
          return py::none();
        }
        Py_INCREF(v);
        PyList_SET_ITEM(by_name.ptr(), i, v);
      }
      glist = by_name.ptr();
    } else if ((!PyList_Check(glist) && !PyTuple_Check(glist)) ||
               PySequence_Fast_GET_SIZE(glist) != n) {
      return py::none();
    }
    static PyObject* const params_key = PyUnicode_InternFromString("params");
    for (Py_ssize_t g = 0; g < ng; ++g) {
      // Re-read every time: a lookup below may run Python code (a user's key
      // object with a colliding hash) that edits the list.
      if (g >= PyList_GET_SIZE(list)) return py::none();
      PyObject* d = PyTuple_GET_ITEM(dicts, g);
      PyObject* vals = PyTuple_GET_ITEM(values, g);
      if (PyList_GET_ITEM(list, g) != d || !PyDict_Check(d) || !PyTuple_Check(vals) ||
          PyTuple_GET_SIZE(vals) != nk)
        return py::none();
      for (Py_ssize_t k = 0; k < nk; ++k) {
        PyObject* v = PyDict_GetItemWithError(d, PyTuple_GET_ITEM(keys, k));
        if (v != PyTuple_GET_ITEM(vals, k)) {
          if (!v && PyErr_Occurred()) PyErr_Clear();
          return py::none();
        }
      }
      // The group's params, replaced or edited, are refused by the checked path.
      if (!params_key) return py::none();
      PyObject* ps = PyDict_GetItemWithError(d, params_key);
      const std::vector<PyObject*>& mine = members_[static_cast<std::size_t>(g)];
      if (!ps || !PyList_CheckExact(ps) ||
          PyList_GET_SIZE(ps) != static_cast<Py_ssize_t>(mine.size())) {
        if (!ps && PyErr_Occurred()) PyErr_Clear();
        return py::none();
      }
      for (std::size_t j = 0; j < mine.size(); ++j)
        if (PyList_GET_ITEM(ps, static_cast<Py_ssize_t>(j)) != mine[j]) return py::none();
    }
    return py::bool_(step(py::handle(glist), packed, skip_nonfinite));
  }

  std::size_t size() const { return tensors_.size(); }
  int num_groups() const { return n_groups_; }

  // Validates every grad, hyperparameter set and state slot, then (without
  // the GIL) steps every tensor. Raises before any write.
  bool step(const py::handle& grads_obj, const py::handle& hypers_obj, bool skip_nonfinite) {
    PyObject* grads = grads_obj.ptr();
    PyObject* hypers = hypers_obj.ptr();
    if (!PyList_Check(grads) && !PyTuple_Check(grads))
      throw py::type_error("grads must be a list or tuple of arrays");
    if (!PyList_Check(hypers) && !PyTuple_Check(hypers))
      throw py::type_error("hypers must be a list or tuple");
    const std::size_t n = tensors_.size();
    const auto nh = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(hypers));
    if (nh != static_cast<std::size_t>(n_groups_))
      throw py::value_error("expected " + std::to_string(n_groups_) + " hyperparameter sets, got " +
                            std::to_string(nh));
    // Per-thread scratch, reused: a step allocates nothing once warm.
    static thread_local std::vector<Hyper> hv;
    hv.assign(nh, Hyper{});
    // Hyperparameters first (reading them runs no Python code: see
    // parse_hyper), then the grads.
    for (std::size_t g = 0; g < nh; ++g) hv[g] = parse_hyper(PySequence_Fast_GET_ITEM(hypers, g), g);

    const auto ng = static_cast<std::size_t>(PySequence_Fast_GET_SIZE(grads));
    if (ng != n)
      throw py::value_error("expected " + std::to_string(n) + " grads (one per parameter), got " +
                            std::to_string(ng));
    for (const Bound& b : bound_) check_bound(b);
    // The state slots each group's settings need (bit k: slot k), once per
    // group; a tensor lacking one is refused below.
    static thread_local std::vector<unsigned> needed;
    needed.resize(nh);
    for (std::size_t g = 0; g < nh; ++g) {
      needed[g] = 0;
      for (int k = 0; k < 3; ++k) needed[g] |= slot_needed(rule_, k, hv[g]) ? 1u << k : 0u;
    }
    // The grads are referenced until the kernels are done: without the GIL,
    // another thread could drop them from the (mutable) list meanwhile.
    HeldRefs held;
    static thread_local std::vector<TensorRef> work;
    work.assign(tensors_.begin(), tensors_.end());
    for (std::size_t i = 0; i < n; ++i) {
      PyObject* g = PySequence_Fast_GET_ITEM(grads, i);
      work[i].g = check_grad(g, i);
      held.add(g);
      const unsigned missing =
          needed[static_cast<std::size_t>(work[i].group)] & ~present_[i];
      if (missing) {
        const int k = missing & 1u ? 0 : missing & 2u ? 1 : 2;
        throw py::value_error(slot_label(i, k) + " is missing for these hyperparameters");
      }
    }
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu_);
    if (skip_nonfinite && !fastoptim::grads_finite(work.data(), work.size())) return false;
    const std::size_t bad = fastoptim::run_step(rule_, work.data(), work.size(), hv.data());
    if (bad != work.size()) {
      const TensorRef& t = work[bad];
      const char* type = t.dtype == DType::f32 ? "float32" : "float64";
      throw py::value_error(label("params", names_[bad]) + " is " + type +
                            " and its hyperparameters overflow " + type + " in its step " +
                            std::to_string(*t.step + 1) +
                            " update (lr, lr / (1 - beta1**step), weight_decay, "
                            "lr * weight_decay or eps too large); nothing was changed");
    }
    return true;
  }

 private:
  // A bound array (param or state buffer) and what it was when bound.
  struct Bound {
    py::object array;  // owning: the array lives as long as the plan
    void* data;
    std::size_t tensor;
    std::string label;
  };

  // New references dropped on scope exit; the GIL must be held then.
  class HeldRefs {
   public:
    HeldRefs() { refs().clear(); }
    ~HeldRefs() {
      // A decref may run Python code (a finalizer) that steps a plan on this
      // thread, which reuses refs(): release from a list of our own.
      std::vector<PyObject*> mine;
      mine.swap(refs());
      for (PyObject* o : mine) Py_DECREF(o);
      mine.clear();
      if (refs().empty()) refs().swap(mine);  // keep the capacity: no allocation next step
    }
    void add(PyObject* o) {
      Py_INCREF(o);
      refs().push_back(o);
    }

   private:
    static std::vector<PyObject*>& refs() {
      static thread_local std::vector<PyObject*> v;
      return v;
    }
  };

  // An array resized (ndarray.resize), reshaped in place or made read-only
  // after binding would have the kernels write through a stale pointer or
  // into a protected array: refuse the step instead.
  void check_bound(const Bound& b) const {
    PyObject* obj = b.array.ptr();
    if (proxy(obj)->data != b.data || !same_shape(obj, shapes_[b.tensor]) || !c_contiguous(obj))
      throw py::value_error(b.label + " was resized or reshaped since the optimizer bound it; "
                            "make a new optimizer for the new array");
    if (!writeable(obj)) throw py::value_error(b.label + " has become read-only");
  }

  // How errors name tensor i's state slot k: slot_labels[k][name] where given
  // (functional's exp_avgs[1]), else state[name]['exp_avg'] (the classes' state).
  std::string slot_label(std::size_t i, int k) const {
    const auto j = static_cast<std::size_t>(k);
    if (j < slot_labels_.size()) return label(slot_labels_[j].c_str(), names_[i]);
    return label("state", names_[i]) + "['" + slot_name(rule_, k) + "']";
  }

  const void* check_grad(PyObject* g, std::size_t i) {
    const std::string& name = names_[i];
    if (!is_ndarray(g))
      throw py::type_error(label("grads", name) + " must be a numpy.ndarray, got " + type_name(g));
    const DType want = tensors_[i].dtype;
    const DtypeCode code = dtype_code(g);
    if (code == DtypeCode::other ||
        (code == DtypeCode::f32) != (want == DType::f32))
      throw py::type_error(label("grads", name) + " has dtype " + dtype_str(g) + " but " +
                           label("params", name) + " has dtype " +
                           (want == DType::f32 ? "float32" : "float64"));
    if (!same_shape(g, shapes_[i]))
      throw py::value_error(label("grads", name) + " has shape " + shape_str(shape_of(g)) +
                            " but " + label("params", name) + " has shape " +
                            shape_str(shapes_[i]));
    if (!c_contiguous(g))
      throw py::value_error(label("grads", name) +
                            " is not C-contiguous; pass np.ascontiguousarray(grad)");
    if (!aligned(g)) throw py::value_error(label("grads", name) + " is not aligned");
    // The written ranges never change, so a grad at the address that passed
    // last step (with the shape checked above, the same bytes) passes again:
    // the search runs only when a tensor's grad moved.
    const void* data = proxy(g)->data;
    if (tensors_[i].n && data != checked_grad_[i]) {
      const ByteRange r = byte_range(g, 0);
      // First written range ending after the grad starts.
      auto it = std::upper_bound(written_.begin(), written_.end(), r.lo,
                                 [](std::uintptr_t lo, const ByteRange& w) { return lo < w.hi; });
      if (it != written_.end() && it->lo < r.hi)
        throw py::value_error(label("grads", name) + " shares memory with " +
                              bound_[it->owner].label +
                              "; a gradient must not alias what the step writes");
      checked_grad_[i] = data;
    }
    return data;
  }

  Rule rule_;
  std::vector<std::string> slot_labels_;
  int n_groups_ = 0;
  std::vector<std::string> names_;
  std::vector<TensorRef> tensors_;
  std::vector<unsigned> present_;            // per tensor, bit k: state slot k bound
  std::vector<const void*> checked_grad_;    // per tensor, the grad address last found disjoint
  std::vector<std::vector<Py_ssize_t>> shapes_;
  std::vector<Bound> bound_;  // every array the kernels write, kept alive with the plan
  std::vector<std::vector<PyObject*>> members_;  // per group, its params (owned by bound_)
  py::object steps_;
  std::vector<ByteRange> written_;
  std::mutex mu_;  // one step of a plan at a time, from any number of threads
};

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<Plan>(m, "Plan", R"doc(
Arrays of an optimizer bound once: params, state buffers and step counters.

Plan(rule, params, states, groups, steps, names, slot_labels=[]). ``rule`` is one of 'sgd',
'momentum', 'adagrad', 'rmsprop', 'adam'; ``states[i]`` lists tensor i's state
buffers (None where unused) in the rule's slot order; ``groups[i]`` is the
index of its hyperparameter set; ``steps`` an int64 array of step counts,
incremented by each step; ``names[i]`` is how error messages name tensor i;
``slot_labels[k]``, where given, names state slot k of tensor i
``slot_labels[k][names[i]]`` in errors rather than ``state[names[i]]['slot']``.
Internal: the optimizer classes and fastoptim.functional build plans.
)doc")
      .def(py::init<const std::string&, const py::list&, const py::list&, const py::list&,
                    const py::array&, const py::list&, const std::vector<std::string>&>(),
           py::arg("rule"), py::arg("params"), py::arg("states"), py::arg("groups"),
           py::arg("steps"), py::arg("names"), py::arg("slot_labels") = std::vector<std::string>{})
      .def("step", &Plan::step, py::arg("grads"), py::arg("hypers"),
           py::arg("skip_nonfinite") = false,
           "Validate grads and hyperparameter sets, then update every tensor in place. With "
           "skip_nonfinite, a step whose grads hold any NaN or Inf changes nothing (not even "
           "the step counts) and returns False; otherwise returns True.")
      .def("step_if_unchanged", &Plan::step_if_unchanged, py::arg("grads"), py::arg("groups"),
           py::arg("memo"), py::arg("skip_nonfinite") = false,
           "step(grads, packed) if memo is (groups, dicts, keys, values, packed, grad_keys) "
           "with groups this very list holding these very dicts, each with these very value "
           "objects under keys and a 'params' list of the very arrays bound to the group "
           "(identity throughout), and grads a list or tuple of the right length or a dict "
           "holding exactly grad_keys; otherwise None, with nothing changed.")
      .def("__len__", &Plan::size)
      .def_property_readonly("num_groups", &Plan::num_groups);
}

}  // namespace fastoptim_bindings
