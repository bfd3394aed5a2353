// Instruction-set levels, what the CPU supports, and which one is in use.
#pragma once

#include <string>
#include <vector>

namespace fastoptim {

// Ordered from lowest to highest; every level can run every lower one.
enum class Isa : int { baseline = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
// Parses "baseline" / "avx2" / "avx512"; returns false for anything else.
bool parse_isa(const std::string& name, Isa* out);

// Highest level this CPU and OS can run (and this build contains).
Isa best_isa();
bool isa_supported(Isa isa);
std::vector<Isa> supported_isas();

// The level kernels use now. Starts at best_isa(), lowered by FASTOPTIM_ISA
// at import (see the bindings) or by set_active_isa.
Isa active_isa();
// Returns false (and changes nothing) if the level is not supported.
bool set_active_isa(Isa isa);

// The kernel table of a level. Each level's object defines a getter of the
// same name in its namespace (baseline::, avx2::, avx512::); only the chosen
// level's getter is called, as the others' code may not run on this CPU.
template <class Table>
const Table& table_for(Isa isa, const Table& (*baseline)(), const Table& (*avx2)(),
                       const Table& (*avx512)()) {
  switch (isa) {
    case Isa::avx512: return avx512();
    case Isa::avx2: return avx2();
    case Isa::baseline: break;
  }
  return baseline();
}

}  // namespace fastoptim

// The active level's table from the getter `name` (x86 builds have three
// levels, others the baseline only).
#if defined(FASTOPTIM_X86)
#define FASTOPTIM_ACTIVE_TABLE(name)                                               \
  ::fastoptim::table_for(::fastoptim::active_isa(), &::fastoptim::baseline::name, \
                         &::fastoptim::avx2::name, &::fastoptim::avx512::name)
#else
#define FASTOPTIM_ACTIVE_TABLE(name) ::fastoptim::baseline::name()
#endif
