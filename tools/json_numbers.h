// Numbers a user wrote in JSON (a batch record's fields, chat's /set values), checked before
// any conversion: a double outside an integer's range converts with undefined behaviour (1e19
// as max_tokens gave one token), and a fraction would be cut silently (2.5 -> 2). Every error
// names `where` (the field) and says what was wrong.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/generation/sampler.h"

namespace dsinfer::cli {

// A whole number in [lo, hi] (|lo|, |hi| < 2^53): a JSON integer, or a float with no fraction (8.0).
int64_t json_whole(const nlohmann::json& v, int64_t lo, int64_t hi, const std::string& where);
// A seed: a whole number from 0 to 2^64-1.
uint64_t json_seed(const nlohmann::json& v, const std::string& where);
// A finite number that fits a float.
float json_float(const nlohmann::json& v, const std::string& where);

// Sets the sampling parameter `name` (temperature or temp, top_k, top_p, min_p, repeat_penalty,
// presence_penalty, frequency_penalty, repeat_last_n, seed) from v, range-checked as the flags
// are; returns false when `name` is not one. Throws Error naming `where`.
bool set_sampling_field(SamplingParams& p, std::string_view name, const nlohmann::json& v, const std::string& where);

}  // namespace dsinfer::cli
