// The one error type of dsinfer: a single line naming the file (or input) and the problem.
#pragma once
#include <stdexcept>
#include <string>

namespace dsinfer {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "<where>: <what>", the shape of every message a user sees.
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw Error(where.empty() ? what : where + ": " + what);
}

}  // namespace dsinfer
