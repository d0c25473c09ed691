#include "tools/batch/batch_record.h"

#include "simd/error.h"
#include "tools/json_numbers.h"

namespace dsinfer::cli {

using json = nlohmann::json;

BatchLine read_batch_line(std::string_view line, int64_t line_no) {
  BatchLine out;
  const json j = json::parse(line, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("id") && (j["id"].is_string() || j["id"].is_number())) {
    out.rec = {{"id", j["id"]}};
    out.object = j;
    return out;
  }
  out.rec = {{"id", nullptr}, {"line", line_no}};
  out.error = "line " + std::to_string(line_no) + ": " +
              (j.is_discarded()   ? "not valid JSON"
               : !j.is_object()   ? "not a JSON object"
                                  : "needs an \"id\" (string or number)");
  return out;
}

BatchJob parse_batch_record(const json& j, int64_t line, const BatchSettings& s, const Tokenizer& tok,
                            const std::optional<ChatFormat>& format) {
  BatchJob job;
  job.line = line;
  job.id = j.at("id");
  job.params = s.params;
  job.stop = s.stop;
  auto field = [&](const char* k) -> const json* {  // null counts as absent
    auto it = j.find(k);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  };
  const json *prompt = field("prompt"), *messages = field("messages");
  if (bool(prompt) == bool(messages)) fail("input", "needs exactly one of \"prompt\" and \"messages\"");
  if (prompt) {
    if (!prompt->is_string()) fail("\"prompt\"", "must be a string");
    EncodeOptions eo;
    eo.parse_special = false;
    eo.add_bos = tok.bos_id() >= 0;
    job.prompt = tok.encode(prompt->get<std::string>(), eo);
  } else {
    if (!format) fail("\"messages\"", "need a chat format: the model has no known chat template (--chat-format)");
    if (!messages->is_array() || messages->empty()) fail("\"messages\"", "must be a non-empty array");
    std::vector<ChatMessage> msgs;
    for (const json& m : *messages) {
      if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() ||
          !m["content"].is_string())
        fail("\"messages\"", "each message needs a string \"role\" and \"content\"");
      msgs.push_back({m["role"], m["content"]});
    }
    job.prompt = render_chat(*format, msgs, tok).encode(tok);
  }
  if (job.prompt.empty()) fail("input", "the prompt is empty");
  const int64_t n = int64_t(job.prompt.size()), room = s.context - n;
  if (room < 1)
    fail("input", "the prompt has " + std::to_string(n) + " tokens; the context holds " + std::to_string(s.context) +
                      " (--ctx), with room for at least one generated token");
  if (const json* v = field("max_tokens")) {
    // Asked for explicitly, a length that cannot fit is an error (as OpenAI's API answers it),
    // not a silent cut.
    job.max_tokens = json_whole(*v, 1, int64_t(1) << 40, "\"max_tokens\"");
    if (job.max_tokens > room)
      fail("\"max_tokens\"", std::to_string(job.max_tokens) + " does not fit: the prompt has " + std::to_string(n) +
                                 " tokens and the context holds " + std::to_string(s.context) + " (--ctx), so at most " +
                                 std::to_string(room));
  } else {
    job.max_tokens = std::min(s.n_predict, room);
  }
  for (const char* k : {"temperature", "top_p", "top_k", "min_p", "seed"})
    if (const json* v = field(k)) set_sampling_field(job.params, k, *v, std::string("\"") + k + "\"");
  if (const json* stop = field("stop")) {
    job.stop.clear();
    if (stop->is_string()) job.stop.push_back(stop->get<std::string>());
    else if (stop->is_array()) {
      for (const json& x : *stop) {
        if (!x.is_string()) fail("\"stop\"", "must be a string or an array of strings");
        job.stop.push_back(x.get<std::string>());
      }
    } else fail("\"stop\"", "must be a string or an array of strings");
  }
  return job;
}

}  // namespace dsinfer::cli
