// libFuzzer target: what a chat user types, line by line: /commands parsed, /set values
// applied (range-checked, nothing changed on an error), /load's conversation JSON read (here
// the rest of the line is the file's content), and other lines added as user turns and rendered
// in the DeepSeek-V3 chat format with the fixture tokenizer. Errors must be dsinfer::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "simd/error.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/chat/chat_command.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsinfer;
  const Tokenizer& tok = fuzz::fixture_tokenizer();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  SamplingParams params;
  int64_t max_tokens = 128;
  std::vector<ChatMessage> msgs;
  int lines = 0;
  for (size_t start = 0; start < input.size() && lines < 32; ++lines) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    try {
      const auto cmd = cli::parse_chat_command(line);
      if (!cmd) {
        msgs.push_back({"user", std::string(line)});
        (void)render_chat(ChatFormat::DeepSeekV3, msgs, tok).encode(tok);
        msgs.push_back({"assistant", "ok"});
        continue;
      }
      using K = cli::ChatCommand::Kind;
      if (cmd->kind == K::Set) {
        const SamplingParams before = params;
        const int64_t before_max = max_tokens;
        try {
          (void)cli::apply_set(cmd->rest, params, max_tokens, 1024);
        } catch (const Error&) {
          if (std::memcmp(&before, &params, sizeof params) != 0 || before_max != max_tokens) std::abort();
          throw;
        }
        validate(params);
        if (max_tokens < 1 || max_tokens > 1024) std::abort();
      } else if (cmd->kind == K::Load) {
        const auto j = nlohmann::json::parse(cmd->rest, nullptr, false);
        if (!j.is_discarded()) msgs = cli::conversation_from_json(j, "conversation");
      } else if (cmd->kind == K::System) {
        std::erase_if(msgs, [](const ChatMessage& m) { return m.role == "system"; });
        if (!cmd->rest.empty()) msgs.insert(msgs.begin(), {"system", cmd->rest});
      } else if (cmd->kind == K::Reset) {
        msgs.clear();
      }
    } catch (const Error&) {
    }
  }
  return 0;
}
