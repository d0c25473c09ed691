// Tokens to route through a model when checking or balancing its experts: text tokenized by
// the model's own tokenizer, or, for a model without one, ids drawn with the Zipf-like
// frequencies of natural text. And the pass that runs them so each MoE layer sees all at once.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/decoder.h"
#include "engine/model/model.h"

namespace dsinfer::cli {

// The built-in routing text (models/calibration/text.txt, compiled in): prose, commands,
// scripture, C++ and JSON, about 15 KB.
const std::string& builtin_routing_text();

// Windows of at most `window` tokens (each led by BOS when the tokenizer has one), `max_tokens`
// in all at most.
std::vector<std::vector<int32_t>> routing_windows(const Model& m, const std::string& text, int64_t max_tokens,
                                                  int64_t window);

// Runs every window through the fast engine in one pass (one prefill chunk holding them all),
// so the hook sees each MoE layer's router logits for all tokens at once; then, for a model
// with an MTP module, that module over the first window (hook layer num_hidden_layers). That
// second pass routes the main layers again over the first window: hooks act on the first call
// for each layer.
void run_routing_pass(const Model& m, const std::vector<std::vector<int32_t>>& windows, RouterBiasHook& hook);

}  // namespace dsinfer::cli
