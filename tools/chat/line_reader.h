// Reads the user's turns: through libedit (line editing, persistent history) when stdin is a
// terminal, plain lines otherwise. A line ending in a backslash continues on the next one.
#pragma once
#include <optional>
#include <string>

namespace dsinfer::cli {

class LineReader {
 public:
  // history_file: where libedit keeps the history (empty: none).
  LineReader(bool interactive, std::string history_file);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // One input (possibly several physical lines); nullopt at end of input (Ctrl-D).
  std::optional<std::string> read(const char* prompt);
  bool interactive() const { return interactive_; }

 private:
  bool interactive_;
  std::string history_file_;
};

}  // namespace dsinfer::cli
