// Chat formats of the DeepSeek family, written out in C++ rather than run as Jinja: the model's
// chat template is only recognised, to pick the format. Rendering keeps template text and
// message text apart, so control tokens are recognised in the former and never in the latter.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace dsinfer {

enum class ChatFormat {
  Raw,          // the messages' text as is, after BOS: plain completion
  DeepSeekV2,   // "User: ...\n\nAssistant: ..." (DeepSeek LLM, V2, V2-Lite Chat)
  DeepSeekV3,   // <｜User｜>...<｜Assistant｜>...<｜end▁of▁sentence｜>
  DeepSeekR1,   // V3 markers; earlier answers lose their <think> part; the reply opens with <think>
  DeepSeekV31,  // V3 markers; "</think>" (or "<think>" when thinking) after each <｜Assistant｜>
};

std::string_view chat_format_name(ChatFormat f);  // "deepseek-v3", ...
std::optional<ChatFormat> chat_format_from_name(std::string_view name);
// All names, for help texts and error messages: "raw, deepseek-v2, ...".
std::string chat_format_names();

// Which format a Jinja chat template implements, from its distinctive text; nullopt if none.
std::optional<ChatFormat> recognize_chat_template(std::string_view tmpl);

// The format named by `name` (a --chat-format value) or, when it is empty, the one the
// tokenizer's chat template implements. Throws Error (naming `where`) when neither gives one.
ChatFormat pick_chat_format(const Tokenizer& t, std::string_view name, const std::string& where);

struct ChatMessage {
  std::string role;  // system, user or assistant
  std::string content;
};

struct ChatOptions {
  bool add_generation_prompt = true;  // end with the opening of the assistant's reply
  bool thinking = false;              // V3.1: reply in thinking mode
};

// A rendered conversation: pieces of template text and of message text, in order.
struct ChatPrompt {
  struct Piece {
    std::string text;
    bool from_template = false;
  };
  std::vector<Piece> pieces;

  std::string text() const;  // what the Jinja template would have produced
  // Ids of the whole prompt (BOS included by the format itself, as the templates write it).
  std::vector<int32_t> encode(const Tokenizer& t) const;
};

// `bos`/`eos`: the text of the tokenizer's BOS and EOS tokens. Throws Error on a role the
// format has no place for.
ChatPrompt render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, std::string_view bos,
                       std::string_view eos, const ChatOptions& o = {});
// The same with BOS/EOS taken from the tokenizer.
ChatPrompt render_chat(ChatFormat f, const std::vector<ChatMessage>& messages, const Tokenizer& t,
                       const ChatOptions& o = {});

}  // namespace dsinfer
