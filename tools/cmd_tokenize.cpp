// `dsinfer tokenize`: text -> token ids as JSON; --detok: ids -> text; --chat: a conversation
// rendered in the model's chat format (recognised from its template, or --chat-format).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/model/model_tokenizer.h"
#include "engine/tokenizer/chat_format.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/utf8.h"
#include "quant/input_file.h"
#include "simd/error.h"
#include "tools/commands.h"

namespace dsinfer::cli {

namespace {

struct TokenizeOptions {
  std::string tokenizer, text, file, chat, chat_format;
  bool no_special = false, detok = false, bos = false, render = false, thinking = false, no_generation_prompt = false;
  CLI::Option *text_opt = nullptr, *file_opt = nullptr, *chat_opt = nullptr;
};

// "1,2,3", "[1, 2, 3]" or ids separated by any mix of commas and whitespace.
std::vector<int32_t> parse_ids(const std::string& s, const std::string& where) {
  std::string list = s;
  const size_t b = list.find_first_not_of(" \t\r\n"), e = list.find_last_not_of(" \t\r\n");
  if (b != std::string::npos && list[b] == '[' && list[e] == ']') list = list.substr(b + 1, e - b - 1);
  for (char& c : list)
    if (c == ',' || c == '\t' || c == '\r' || c == '\n') c = ' ';
  std::vector<int32_t> ids;
  size_t i = 0;
  while ((i = list.find_first_not_of(' ', i)) != std::string::npos) {
    const size_t j = std::min(list.find(' ', i), list.size());
    const std::vector<int32_t> one = parse_token_list(list.substr(i, j - i), where);
    ids.insert(ids.end(), one.begin(), one.end());
    i = j;
  }
  if (ids.empty()) fail(where, "no token ids given");
  return ids;
}

std::vector<ChatMessage> read_messages(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_input(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number past double's range
    fail(path, std::string("not valid JSON (") + e.what() + ")");
  }
  if (j.is_object() && j.contains("messages")) j = j["messages"];
  if (!j.is_array()) fail(path, "expected a list of messages [{\"role\": ..., \"content\": ...}, ...]");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string())
      fail(path, "message " + std::to_string(i + 1) + " needs a string \"role\" and a string \"content\"");
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

void print_ids(const std::vector<int32_t>& ids) { std::cout << nlohmann::json(ids).dump() << std::endl; }

void run_tokenize(const TokenizeOptions& o) {
  const int inputs = int(o.text_opt->count() > 0) + int(o.file_opt->count() > 0) + int(o.chat_opt->count() > 0);
  if (inputs != 1) fail("tokenize", "give exactly one of --text, --file and --chat");
  if (o.detok && o.chat_opt->count()) fail("--detok", "takes ids from --text or --file, not --chat");
  if (!o.chat_format.empty() && !o.chat_opt->count()) fail("--chat-format", "only applies with --chat");

  // Every input is read and checked before the tokenizer loads (a large vocabulary takes a while).
  const std::string where = o.file_opt->count() ? o.file : o.text_opt->count() ? "--text" : o.chat;
  const std::string input = o.file_opt->count() ? read_text_input(o.file) : o.text;
  if (o.detok) {
    const std::vector<int32_t> ids = parse_ids(input, where);
    std::cout << open_tokenizer_any(o.tokenizer)->decode(ids, o.no_special) << std::flush;
    return;
  }
  if (o.chat_opt->count()) {
    const std::vector<ChatMessage> messages = read_messages(o.chat);
    const auto tok = open_tokenizer_any(o.tokenizer);
    const std::optional<ChatFormat> f = pick_chat_format(*tok, o.chat_format, o.tokenizer);
    ChatOptions co;
    co.add_generation_prompt = !o.no_generation_prompt;
    co.thinking = o.thinking;
    const ChatPrompt prompt = render_chat(*f, messages, *tok, co);
    if (o.render)
      std::cout << prompt.text() << std::flush;
    else
      print_ids(prompt.encode(*tok));
    return;
  }
  if (const size_t bad = utf8::invalid_at(input); bad != std::string::npos)
    fail(where, "not valid UTF-8 (byte " + std::to_string(bad) + ")");
  EncodeOptions eo;
  eo.parse_special = !o.no_special;
  eo.add_bos = o.bos;
  print_ids(open_tokenizer_any(o.tokenizer)->encode(input, eo));
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* sub = app.add_subcommand("tokenize", "Text to token ids (JSON), or ids to text with --detok");
  sub->add_option("tokenizer", o->tokenizer, "Model or tokenizer directory (tokenizer.json), a tokenizer.json, or a GGUF file")
      ->required();
  o->text_opt = sub->add_option("--text", o->text, "The text (with --detok: ids, e.g. 1,2,3)");
  o->file_opt = sub->add_option("--file", o->file, "Read the text (or the ids) from this file (- for stdin)");
  o->chat_opt = sub->add_option("--chat", o->chat, "A JSON list of {role, content} messages to render and tokenize");
  o->text_opt->excludes(o->file_opt);
  o->chat_opt->excludes(o->text_opt)->excludes(o->file_opt);
  sub->add_flag("--no-special", o->no_special,
                "Untrusted text: control tokens written in it (<｜User｜>) stay plain text; with --detok, "
                "control tokens are left out");
  sub->add_flag("--detok", o->detok, "Decode token ids to text");
  sub->add_flag("--bos", o->bos, "Start with the BOS token");
  sub->add_option("--chat-format", o->chat_format,
                  "Override the format recognised from the chat template: " + chat_format_names());
  sub->add_flag("--no-generation-prompt", o->no_generation_prompt, "With --chat: do not open an assistant reply");
  sub->add_flag("--thinking", o->thinking, "With --chat, deepseek-v3.1: reply in thinking mode");
  sub->add_flag("--render", o->render, "With --chat: print the rendered text instead of ids");
  sub->callback([o] { run_tokenize(*o); });
}

}  // namespace dsinfer::cli
