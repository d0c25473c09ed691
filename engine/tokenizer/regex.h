// A compiled PCRE2 pattern over UTF-8 text: Unicode properties (\p{L}, and \s, \w by
// Unicode), ^ and $ at line ends as in Oniguruma (the engine Hugging Face patterns are written
// for), JIT-compiled where the platform allows. Immutable once built, so one Regex serves any
// number of threads, each matching with its own RegexScratch.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;
struct pcre2_real_jit_stack_8;

namespace dsinfer {

class RegexScratch {
 public:
  RegexScratch();
  ~RegexScratch();
  RegexScratch(const RegexScratch&) = delete;
  RegexScratch& operator=(const RegexScratch&) = delete;

 private:
  friend class Regex;
  pcre2_real_match_data_8* md_ = nullptr;
  // A large JIT stack, made only when a match overflows the default one.
  pcre2_real_match_context_8* ctx_ = nullptr;
  pcre2_real_jit_stack_8* stack_ = nullptr;
};

class Regex {
 public:
  // `literal`: the pattern is plain text. Throws Error "<where>: invalid regex ...".
  Regex(std::string_view pattern, const std::string& where, bool literal = false);
  ~Regex();
  Regex(Regex&& o) noexcept;
  Regex& operator=(Regex&& o) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // The first match in text[start..] (start on a character boundary; text valid UTF-8, which is
  // not checked again). `anchored`: only a match starting exactly at `start`.
  bool find(std::string_view text, size_t start, RegexScratch& s, size_t& begin, size_t& end,
            bool anchored = false) const;

 private:
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
};

}  // namespace dsinfer
