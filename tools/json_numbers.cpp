#include "tools/json_numbers.h"

#include <cfloat>
#include <cmath>

#include "simd/error.h"

namespace dsinfer::cli {

namespace {

constexpr double kExact = 9007199254740992.0;  // 2^53: every integer below converts exactly

std::string range(int64_t lo, int64_t hi) { return "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi); }

}  // namespace

int64_t json_whole(const nlohmann::json& v, int64_t lo, int64_t hi, const std::string& where) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(hi) || int64_t(u) < lo) fail(where, range(lo, hi) + ", not " + v.dump());
    return int64_t(u);
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i < lo || i > hi) fail(where, range(lo, hi) + ", not " + v.dump());
    return i;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(std::fabs(d) < kExact) || d != std::floor(d) || d < double(lo) || d > double(hi))
      fail(where, range(lo, hi) + ", not " + v.dump());
    return int64_t(d);
  }
  fail(where, "must be a number, not " + std::string(v.type_name()));
}

uint64_t json_seed(const nlohmann::json& v, const std::string& where) {
  const std::string want = "must be a whole number from 0 to 2^64-1";
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) fail(where, want + ", not " + v.dump());  // negative
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d >= 0 && d < 18446744073709551616.0) || d != std::floor(d)) fail(where, want + ", not " + v.dump());
    return uint64_t(d);
  }
  fail(where, "must be a number, not " + std::string(v.type_name()));
}

float json_float(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number()) fail(where, "must be a number, not " + std::string(v.type_name()));
  const double d = v.get<double>();
  if (!(std::fabs(d) <= double(FLT_MAX))) fail(where, "is out of range (" + v.dump() + ")");
  return float(d);
}

bool set_sampling_field(SamplingParams& p, std::string_view name, const nlohmann::json& v, const std::string& where) {
  constexpr int64_t kInt32 = 2147483647;
  if (name == "temperature" || name == "temp") p.temperature = json_float(v, where);
  else if (name == "top_k") p.top_k = int32_t(json_whole(v, 0, kInt32, where));
  else if (name == "top_p") p.top_p = json_float(v, where);
  else if (name == "min_p") p.min_p = json_float(v, where);
  else if (name == "repeat_penalty") p.repeat_penalty = json_float(v, where);
  else if (name == "presence_penalty") p.presence_penalty = json_float(v, where);
  else if (name == "frequency_penalty") p.frequency_penalty = json_float(v, where);
  else if (name == "repeat_last_n") p.repeat_last_n = int32_t(json_whole(v, 0, kInt32, where));
  else if (name == "seed") p.seed = json_seed(v, where);
  else return false;
  const char* w = where.c_str();  // one field changed: any range error is that field's
  validate(p, SamplingNames{w, w, w, w, w, w, w, w});
  return true;
}

}  // namespace dsinfer::cli
