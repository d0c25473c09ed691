// The /commands of `dsinfer chat`: parsing a line, /set's values and /load's conversations,
// apart from the terminal so they can be tested and fuzzed on their own.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/generation/sampler.h"
#include "engine/tokenizer/chat_format.h"

namespace dsinfer::cli {

struct ChatCommand {
  enum class Kind { Help, Quit, Reset, System, Save, Load, Stats, Set, Unknown };
  Kind kind = Kind::Unknown;
  std::string name;  // as typed: "/set"
  std::string rest;  // everything after the name, leading blanks removed
};

// A line starting with '/' -> its command; nullopt for a message.
std::optional<ChatCommand> parse_chat_command(std::string_view line);

// "/set NAME VALUE": a sampling parameter (temp, top_k, top_p, min_p, repeat_penalty,
// presence_penalty, frequency_penalty, repeat_last_n, seed) or max_tokens (1 to `context`).
// Returns "NAME = VALUE" for the note; throws Error naming "/set NAME" with nothing changed.
std::string apply_set(std::string_view rest, SamplingParams& p, int64_t& max_tokens, int64_t context);

// A conversation written by /save ({"messages": [{"role", "content"}, ...]}); throws Error naming `where`.
std::vector<ChatMessage> conversation_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json conversation_to_json(const std::vector<ChatMessage>& m);

}  // namespace dsinfer::cli
