// What the expert store did, as people read it: in bench, chat's /stats and run --stats.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/experts/expert_store.h"
#include "engine/model/model.h"

namespace dsinfer::cli {

// One line ("" without an expert store); `tokens`: tokens the figures are spread over.
// Without `s`, the store's figures since the model was opened.
std::string store_stats_line(const Model& m, int64_t tokens, const ExpertStoreStats* s = nullptr);
// The same figures as JSON (null without an expert store).
nlohmann::json store_stats_json(const Model& m, int64_t tokens, const ExpertStoreStats* s = nullptr);
// b - a, counter by counter.
ExpertStoreStats stats_between(const ExpertStoreStats& a, const ExpertStoreStats& b);
// into += d, counter by counter.
void add_stats(ExpertStoreStats& into, const ExpertStoreStats& d);

}  // namespace dsinfer::cli
