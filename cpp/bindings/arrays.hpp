// Cheap checks of NumPy arrays at the boundary. They read the array struct
// directly (no conversion, no copies): an output array converted by
// pybind11 would be a hidden copy, and per-call conversions cost more than
// a small tensor's arithmetic (PERF-NOTES, "Calling overhead").
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fastoptim_bindings {

namespace py = pybind11;

enum class DtypeCode : int { other = -1, f32 = 0, f64 = 1 };

inline bool is_ndarray(PyObject* o) { return py::detail::npy_api::get().PyArray_Check_(o); }

inline const py::detail::PyArray_Proxy* proxy(PyObject* o) { return py::detail::array_proxy(o); }

inline DtypeCode dtype_code(PyObject* arr) {
  const auto* d = py::detail::array_descriptor_proxy(proxy(arr)->descr);
  // '>' (or '<' on a big-endian machine) is a byte-swapped array: refuse it.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  if (d->byteorder == '<') return DtypeCode::other;
#else
  if (d->byteorder == '>') return DtypeCode::other;
#endif
  if (d->type_num == py::detail::npy_api::NPY_FLOAT_) return DtypeCode::f32;
  if (d->type_num == py::detail::npy_api::NPY_DOUBLE_) return DtypeCode::f64;
  return DtypeCode::other;
}

inline int array_flags(PyObject* arr) { return proxy(arr)->flags; }
inline bool c_contiguous(PyObject* arr) {
  return array_flags(arr) & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_;
}
inline bool aligned(PyObject* arr) {
  return array_flags(arr) & py::detail::npy_api::NPY_ARRAY_ALIGNED_;
}
inline bool writeable(PyObject* arr) {
  return array_flags(arr) & py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
}

inline std::size_t array_size(PyObject* arr) {
  const auto* a = proxy(arr);
  std::size_t n = 1;
  for (int i = 0; i < a->nd; ++i) n *= static_cast<std::size_t>(a->dimensions[i]);
  return n;
}

inline std::size_t itemsize(DtypeCode c) { return c == DtypeCode::f32 ? 4 : 8; }

inline std::string type_name(PyObject* o) { return Py_TYPE(o)->tp_name; }

inline std::string dtype_str(PyObject* arr) {
  return py::str(reinterpret_cast<PyObject*>(proxy(arr)->descr)).cast<std::string>();
}

inline std::string shape_str(const std::vector<Py_ssize_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

inline std::vector<Py_ssize_t> shape_of(PyObject* arr) {
  const auto* a = proxy(arr);
  return std::vector<Py_ssize_t>(a->dimensions, a->dimensions + a->nd);
}

inline bool same_shape(PyObject* arr, const std::vector<Py_ssize_t>& shape) {
  const auto* a = proxy(arr);
  if (a->nd != static_cast<int>(shape.size())) return false;
  for (int i = 0; i < a->nd; ++i)
    if (a->dimensions[i] != shape[static_cast<std::size_t>(i)]) return false;
  return true;
}

// Checks an array the kernels will write: ndarray, float32/float64,
// C-contiguous, aligned, writeable. `label` names it in the error.
inline DtypeCode check_output_array(PyObject* o, const std::string& label) {
  if (!is_ndarray(o))
    throw py::type_error(label + " must be a numpy.ndarray of float32 or float64, got " +
                         type_name(o));
  const DtypeCode code = dtype_code(o);
  if (code == DtypeCode::other)
    throw py::type_error(label + " has dtype " + dtype_str(o) +
                         "; fastoptim works on float32 and float64 arrays (native byte order)");
  if (!c_contiguous(o))
    throw py::value_error(label +
                          " is not C-contiguous: it is updated in place, so it must be the "
                          "contiguous array itself, not a strided view");
  if (!aligned(o)) throw py::value_error(label + " is not aligned to its element size");
  if (!writeable(o)) throw py::value_error(label + " is read-only (flags.writeable is False)");
  return code;
}

struct ByteRange {
  std::uintptr_t lo, hi;
  std::size_t owner;  // the caller's index of the array
};

inline ByteRange byte_range(PyObject* arr, std::size_t owner) {
  const auto lo = reinterpret_cast<std::uintptr_t>(proxy(arr)->data);
  const std::size_t bytes = array_size(arr) * itemsize(dtype_code(arr));
  return ByteRange{lo, lo + bytes, owner};
}

}  // namespace fastoptim_bindings
