#include "tools/number_flags.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace dsinfer::cli {

namespace {

template <class T>
bool parses_whole(const std::string& s, T& v) {
  const char* b = s.data() + (s.size() > 1 && s[0] == '+' ? 1 : 0);  // from_chars takes no '+'
  const auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

std::string signed_integer(const std::string& s) {
  int64_t v = 0;
  return parses_whole(s, v) ? "" : "'" + s + "' is not a whole number from -2^63 to 2^63-1";
}

std::string unsigned_integer(const std::string& s) {
  uint64_t v = 0;
  return parses_whole(s, v) ? "" : "'" + s + "' is not a whole number from 0 to 2^64-1";
}

std::string finite_number(const std::string& s) {
  double v = 0;
  const char* b = s.data() + (s.size() > 1 && s[0] == '+' ? 1 : 0);
  const auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v))
    return "'" + s + "' is not a finite number";
  return "";
}

}  // namespace

void check_number_flags(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    for (CLI::Option* opt : sub->get_options()) {
      const std::string type = opt->get_type_name();
      if (type == "INT") opt->check(signed_integer, "");
      else if (type == "UINT") opt->check(unsigned_integer, "");
      else if (type == "FLOAT") opt->check(finite_number, "");
    }
}

}  // namespace dsinfer::cli
