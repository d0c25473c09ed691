#include "tools/context_flag.h"

#include <algorithm>
#include <string>

#include "simd/error.h"

namespace dsinfer::cli {

int64_t context_for(int64_t requested, int64_t model_context) {
  if (requested == 0) return std::min<int64_t>(4096, model_context);
  if (requested < 16) fail("--ctx", "must be at least 16");
  if (requested > model_context)
    fail("--ctx", std::to_string(requested) + " is more than the model's context of " + std::to_string(model_context) +
                      " tokens");
  return requested;
}

}  // namespace dsinfer::cli
