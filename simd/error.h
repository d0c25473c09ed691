// The one error type of dsinfer: a single line naming the file (or input) and the problem.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace dsinfer {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `s` with control bytes written as escapes (\n, \t, \r, \xNN): text quoted from a file (a token,
// a merge, a key) may hold a NUL, which would end the message early, or a newline, which would
// make it two lines.
inline std::string one_line(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) out += ch;
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

// "<where>: <what>", the shape of every message a user sees; always one line.
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw Error(one_line(where.empty() ? what : where + ": " + what));
}

}  // namespace dsinfer
