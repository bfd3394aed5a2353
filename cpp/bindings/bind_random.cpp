#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace fastoptim_bindings {
void bind_random(py::module_& m) { (void)m; }
}  // namespace fastoptim_bindings
