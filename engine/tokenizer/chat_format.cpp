#include "engine/tokenizer/chat_format.h"

#include "simd/error.h"

namespace dsinfer {

namespace {

constexpr std::string_view kUser = "<｜User｜>";  // fullwidth bars U+FF5C
constexpr std::string_view kAssistant = "<｜Assistant｜>";

struct Named {
  ChatFormat format;
  std::string_view name;
};
constexpr Named kNames[] = {
    {ChatFormat::Raw, "raw"},
    {ChatFormat::DeepSeekV2, "deepseek-v2"},
    {ChatFormat::DeepSeekV3, "deepseek-v3"},
    {ChatFormat::DeepSeekR1, "deepseek-r1"},
    {ChatFormat::DeepSeekV31, "deepseek-v3.1"},
};

bool has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// An earlier answer of a reasoning model keeps only what follows its reasoning.
std::string_view after_think(std::string_view content, bool last_marker) {
  constexpr std::string_view end = "</think>";
  const size_t at = last_marker ? content.rfind(end) : content.find(end);
  return at == std::string_view::npos ? content : content.substr(at + end.size());
}

class Builder {
 public:
  void tmpl(std::string_view s) { add(s, true); }
  void message(std::string_view s) { add(s, false); }
  ChatPrompt done() { return std::move(p_); }

 private:
  void add(std::string_view s, bool from_template) {
    if (s.empty()) return;
    if (!p_.pieces.empty() && p_.pieces.back().from_template == from_template)
      p_.pieces.back().text.append(s);
    else
      p_.pieces.push_back({std::string(s), from_template});
  }
  ChatPrompt p_;
};

[[noreturn]] void bad_role(ChatFormat f, size_t i, const std::string& role) {
  fail("chat", "message " + std::to_string(i + 1) + " has role '" + role + "', which the " +
                   std::string(chat_format_name(f)) + " format does not support (system, user, assistant)");
}

}  // namespace

std::string_view chat_format_name(ChatFormat f) {
  for (const Named& n : kNames)
    if (n.format == f) return n.name;
  return "?";
}

std::optional<ChatFormat> chat_format_from_name(std::string_view name) {
  for (const Named& n : kNames)
    if (n.name == name) return n.format;
  return std::nullopt;
}

std::string chat_format_names() {
  std::string s;
  for (const Named& n : kNames) s += (s.empty() ? "" : ", ") + std::string(n.name);
  return s;
}

std::optional<ChatFormat> recognize_chat_template(std::string_view t) {
  if (has(t, kUser) && has(t, kAssistant)) {
    // V3.1 switches between modes with a `thinking` variable; R1 only strips old reasoning.
    if (has(t, "</think>") && has(t, "thinking")) return ChatFormat::DeepSeekV31;
    if (has(t, "</think>") || has(t, "<think>")) return ChatFormat::DeepSeekR1;
    return ChatFormat::DeepSeekV3;
  }
  if (has(t, "'User: '") && has(t, "'Assistant:")) return ChatFormat::DeepSeekV2;
  return std::nullopt;
}

std::string ChatPrompt::text() const {
  std::string s;
  for (const Piece& p : pieces) s += p.text;
  return s;
}

std::vector<int32_t> ChatPrompt::encode(const Tokenizer& t) const {
  std::vector<TextPart> parts;
  parts.reserve(pieces.size());
  for (const Piece& p : pieces) parts.push_back({p.text, p.from_template});
  return t.encode(parts);
}

ChatPrompt render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, std::string_view bos,
                       std::string_view eos, const ChatOptions& o) {
  Builder b;
  b.tmpl(bos);
  switch (f) {
    case ChatFormat::Raw:
      for (const ChatMessage& m : messages) b.message(m.content);
      break;

    case ChatFormat::DeepSeekV2:
      for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (m.role == "system") {
          b.message(m.content);
          b.tmpl("\n\n");
        } else if (m.role == "user") {
          b.tmpl("User: ");
          b.message(m.content);
          b.tmpl("\n\n");
        } else if (m.role == "assistant") {
          b.tmpl("Assistant: ");
          b.message(m.content);
          b.tmpl(eos);
        } else {
          bad_role(f, i, m.role);
        }
      }
      if (o.add_generation_prompt) b.tmpl("Assistant:");
      break;

    case ChatFormat::DeepSeekV3:
    case ChatFormat::DeepSeekR1:
    case ChatFormat::DeepSeekV31: {
      // All system prompts go first, joined by blank lines, wherever they stand.
      bool first_system = true;
      for (const ChatMessage& m : messages)
        if (m.role == "system") {
          if (!first_system) b.tmpl("\n\n");
          b.message(m.content);
          first_system = false;
        }
      bool after_user = false;
      for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (m.role == "system") continue;
        if (m.role == "user") {
          b.tmpl(kUser);
          b.message(m.content);
          after_user = true;
        } else if (m.role == "assistant") {
          if (f == ChatFormat::DeepSeekV31) {
            if (after_user) {
              b.tmpl(kAssistant);
              b.tmpl("</think>");
            }
            b.message(after_think(m.content, false));
          } else {
            b.tmpl(kAssistant);
            b.message(f == ChatFormat::DeepSeekR1 ? after_think(m.content, true) : std::string_view(m.content));
          }
          b.tmpl(eos);
          after_user = false;
        } else {
          bad_role(f, i, m.role);
        }
      }
      if (o.add_generation_prompt) {
        if (f == ChatFormat::DeepSeekV31) {
          if (after_user) {
            b.tmpl(kAssistant);
            b.tmpl(o.thinking ? "<think>" : "</think>");
          }
        } else {
          b.tmpl(kAssistant);
          if (f == ChatFormat::DeepSeekR1) b.tmpl("<think>\n");
        }
      }
      break;
    }
  }
  return b.done();
}

ChatPrompt render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, const Tokenizer& t,
                       const ChatOptions& o) {
  // Raw completion starts with BOS only where the tokenizer would add one to plain text.
  const bool want_bos = t.bos_id() >= 0 && (f != ChatFormat::Raw || t.adds_bos());
  const std::string_view bos = want_bos ? t.token_bytes(t.bos_id()) : std::string_view();
  const std::string_view eos = t.eos_id() >= 0 ? t.token_bytes(t.eos_id()) : std::string_view();
  if (f != ChatFormat::Raw && eos.empty()) fail(t.source(), "the tokenizer has no EOS token, which chat formats need");
  return render_chat(f, messages, bos, eos, o);
}

ChatFormat pick_chat_format(const Tokenizer& t, std::string_view name, const std::string& where) {
  if (!name.empty()) {
    if (auto f = chat_format_from_name(name)) return *f;
    fail("--chat-format", "unknown format '" + std::string(name) + "' (known: " + chat_format_names() + ")");
  }
  if (t.chat_template().empty())
    fail(where, "has no chat template; choose a format with --chat-format (" + chat_format_names() + ")");
  if (auto f = recognize_chat_template(t.chat_template())) return *f;
  fail(where, "its chat template is not one of the known formats; choose one with --chat-format (" +
                  chat_format_names() + ")");
}

}  // namespace dsinfer
