#include "tools/chat/chat_command.h"

#include <algorithm>
#include <sstream>

#include "simd/error.h"
#include "tools/json_numbers.h"

namespace dsinfer::cli {

std::optional<ChatCommand> parse_chat_command(std::string_view line) {
  if (line.empty() || line[0] != '/') return std::nullopt;
  ChatCommand c;
  const size_t end = std::min(line.find_first_of(" \t"), line.size());
  c.name = std::string(line.substr(0, end));
  const size_t rest = line.find_first_not_of(" \t", end);
  if (rest != std::string_view::npos) c.rest = std::string(line.substr(rest));
  using K = ChatCommand::Kind;
  static const std::pair<const char*, K> kNames[] = {{"/help", K::Help},   {"/quit", K::Quit},     {"/exit", K::Quit},
                                                     {"/reset", K::Reset}, {"/system", K::System}, {"/save", K::Save},
                                                     {"/load", K::Load},   {"/stats", K::Stats},   {"/set", K::Set}};
  for (const auto& [name, kind] : kNames)
    if (c.name == name) c.kind = kind;
  return c;
}

std::string apply_set(std::string_view rest, SamplingParams& p, int64_t& max_tokens, int64_t context) {
  std::istringstream a{std::string(rest)};
  std::string name, value, extra;
  a >> name >> value >> extra;
  if (name.empty() || value.empty() || !extra.empty()) fail("/set", "usage: /set NAME VALUE");
  const std::string where = "/set " + name;
  // The value is read as JSON: integers stay exact (a seed up to 2^64-1), anything else is no number.
  const nlohmann::json v = nlohmann::json::parse(value, nullptr, false);
  if (v.is_discarded() || !v.is_number()) fail(where, "'" + value + "' is not a number");
  if (name == "max_tokens") {
    max_tokens = json_whole(v, 1, context, where);
  } else {
    SamplingParams q = p;
    if (!set_sampling_field(q, name, v, where)) fail("/set", "unknown parameter '" + name + "' (see /help)");
    p = q;
  }
  return name + " = " + value;
}

nlohmann::json conversation_to_json(const std::vector<ChatMessage>& m) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& x : m) j.push_back({{"role", x.role}, {"content", x.content}});
  return nlohmann::json{{"messages", j}};
}

std::vector<ChatMessage> conversation_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array())
    fail(where, "not a conversation written by /save (expected {\"messages\": [...]})");
  std::vector<ChatMessage> m;
  for (const auto& x : j["messages"]) {
    if (!x.is_object() || !x.contains("role") || !x.contains("content") || !x["role"].is_string() ||
        !x["content"].is_string())
      fail(where, "each message needs a string role and content");
    const std::string role = x["role"];
    if (role != "system" && role != "user" && role != "assistant") fail(where, "unknown role '" + role + "'");
    m.push_back({role, x["content"]});
  }
  return m;
}

}  // namespace dsinfer::cli
