// A tensor shape as it appears in messages: "[7168, 2048]".
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace dsinfer {

inline std::string shape_str(std::span<const int64_t> s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) o.append(", ");
    o.append(std::to_string(s[i]));
  }
  o.push_back(']');
  return o;
}

}  // namespace dsinfer
