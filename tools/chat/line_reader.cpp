#include "tools/chat/line_reader.h"

#include <editline/readline.h>

#include <cstdlib>
#include <iostream>

namespace dsinfer::cli {

LineReader::LineReader(bool interactive, std::string history_file)
    : interactive_(interactive), history_file_(std::move(history_file)) {
  if (!interactive_) return;
  using_history();
  if (!history_file_.empty()) read_history(history_file_.c_str());
}

LineReader::~LineReader() = default;

std::optional<std::string> LineReader::read(const char* prompt) {
  std::string all;
  const char* p = prompt;
  for (;;) {
    std::string line;
    if (interactive_) {
      char* s = readline(p);
      if (!s) return all.empty() ? std::nullopt : std::optional<std::string>(all);
      line = s;
      std::free(s);
    } else if (!std::getline(std::cin, line)) {
      return all.empty() ? std::nullopt : std::optional<std::string>(all);
    }
    const bool more = !line.empty() && line.back() == '\\';
    if (more) line.pop_back();
    all += line;
    if (!more) break;
    all += '\n';
    p = "... ";
  }
  if (interactive_ && !all.empty()) {
    add_history(all.c_str());
    // Saved after every entry, so a crash or kill loses nothing typed before it.
    if (!history_file_.empty()) write_history(history_file_.c_str());
  }
  return all;
}

}  // namespace dsinfer::cli
