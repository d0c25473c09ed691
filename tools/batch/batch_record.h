// One line of `dsinfer batch` input: JSON text -> a job to run, or the reason it cannot run.
// Every problem of a record (bad JSON, a missing id, a field out of range, a prompt or a
// max_tokens the context cannot hold) is that record's error line; the run goes on.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/generation/sampler.h"
#include "engine/tokenizer/chat_format.h"
#include "engine/tokenizer/tokenizer.h"

namespace dsinfer::cli {

// The run's defaults, from the flags.
struct BatchSettings {
  int64_t n_predict = 256;  // most tokens of a record without max_tokens (cut to what fits)
  int64_t context = 0;      // tokens a sequence holds: prompt + generated
  SamplingParams params;
  std::vector<std::string> stop;
};

struct BatchJob {
  nlohmann::json id;
  int64_t line = 0;
  std::vector<int32_t> prompt;
  int64_t max_tokens = 0;
  SamplingParams params;
  std::vector<std::string> stop;
};

// A line read: `rec` is {"id": ...} for an object with a usable id (a string or a number),
// else {"id": null, "line": N} with `error` set; `object` is the parsed object when it has an id.
struct BatchLine {
  nlohmann::json rec;
  std::optional<nlohmann::json> object;
  std::string error;
};
BatchLine read_batch_line(std::string_view line, int64_t line_no);

// A record with an id -> its job; throws Error naming the field for a bad record.
BatchJob parse_batch_record(const nlohmann::json& j, int64_t line, const BatchSettings& s, const Tokenizer& tok,
                            const std::optional<ChatFormat>& format);

}  // namespace dsinfer::cli
