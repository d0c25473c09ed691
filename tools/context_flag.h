// The --ctx of chat and batch: tokens a sequence holds. Not given, the model's context (at most
// 4096, which keeps the cache small on large models); given, at least 16 and at most the
// model's: a context the model was not trained for (positions past max_position_embeddings)
// is refused, not silently cut.
#pragma once
#include <cstdint>

namespace dsinfer::cli {

// `requested` 0: not given. Throws Error naming --ctx.
int64_t context_for(int64_t requested, int64_t model_context);

}  // namespace dsinfer::cli
