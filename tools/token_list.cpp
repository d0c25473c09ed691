#include <charconv>

#include "simd/error.h"
#include "tools/commands.h"

namespace dsinfer::cli {

std::vector<int32_t> parse_token_list(const std::string& s, const std::string& option) {
  if (s.find_first_not_of(" \t") == std::string::npos) fail(option, "no token ids given (expected e.g. 0,17,42)");
  std::vector<int32_t> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    const std::string item = s.substr(i, j - i);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || v < INT32_MIN || v > INT32_MAX)
      fail(option, "'" + item + "' is not a token id (expected a comma-separated list of integers)");
    out.push_back(int32_t(v));
    i = j + 1;
  }
  return out;
}

}  // namespace dsinfer::cli
