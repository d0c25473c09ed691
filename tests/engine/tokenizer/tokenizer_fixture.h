// The real DeepSeek-V3 tokenizer of the shared fixtures and its golden file, loaded once per
// test process (ctest runs each test in a process of its own).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tokenizer/chat_format.h"
#include "engine/tokenizer/tokenizer.h"

namespace dsinfer::test {

std::string deepseek_v3_dir();
const Tokenizer& deepseek_v3();

struct GoldenLine {
  int line = 0;  // 1-based, for messages
  std::string text;
  std::vector<int32_t> ids;
  std::vector<ChatMessage> chat;  // non-empty for the chat renderings
  bool add_generation_prompt = false;
};
const std::vector<GoldenLine>& golden_lines();

// Shows control characters, so a failing text is readable in the log.
std::string printable(const std::string& s);

}  // namespace dsinfer::test
