// What a forward pass reads, in weight bytes: what every step reads whatever it routes to, one
// routed expert, the MTP module. For the bench's bounds and speculation's cost model.
#pragma once
#include <cstdint>

#include "engine/model/model.h"

namespace dsinfer {

uint64_t bytes_of(const Matrix& m);

// Bytes one step reads whatever it routes to (attention, shared experts, dense layers, routers,
// the lm_head), and the bytes of one routed expert (an average one).
struct StepBytes {
  uint64_t shared = 0, expert = 0;
  int64_t moe_layers = 0;
};
StepBytes step_bytes(const Model& model);
// Weight bytes one decoded token reads: the above with k experts per MoE layer and one
// embedding row.
uint64_t bytes_per_token(const Model& model);
// Bytes one MTP draft of one token reads (0 without a module): its layer with k experts, the
// projection, and its head's rows scored (`head_rows`: the whole vocabulary when 0).
uint64_t mtp_draft_bytes(const Model& model, int64_t head_rows);

}  // namespace dsinfer
