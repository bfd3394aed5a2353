// Random fills, compiled once per ISA level. (Filled in by the initializer work.)
#include "fastoptim/kernels/isa_common.hpp"
