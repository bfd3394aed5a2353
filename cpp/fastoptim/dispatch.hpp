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

}  // namespace fastoptim
