#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/tokenizer/regex.h"

#include <pcre2.h>

#include <utility>

#include "simd/error.h"

namespace dsinfer {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof buf);
  return n < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<const char*>(buf), size_t(n));
}

}  // namespace

RegexScratch::RegexScratch() : md_(pcre2_match_data_create(1, nullptr)) {
  if (!md_) throw std::bad_alloc();
}

RegexScratch::~RegexScratch() {
  pcre2_match_data_free(md_);
  pcre2_match_context_free(ctx_);
  pcre2_jit_stack_free(stack_);
}

Regex::Regex(std::string_view pattern, const std::string& where, bool literal) {
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE;
  if (literal) opts = PCRE2_UTF | PCRE2_LITERAL;
  int err = 0;
  PCRE2_SIZE at = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), opts, &err, &at, nullptr);
  if (!code_) {
    std::string shown(pattern.substr(0, 80));
    for (char& c : shown)
      if (c == '\n' || c == '\r') c = ' ';
    fail(where, "invalid regex '" + shown + (pattern.size() > 80 ? "...'" : "'") + ": " + pcre2_message(err) +
                    " at offset " + std::to_string(at));
  }
  // Without JIT (some hardened kernels refuse executable memory) the interpreter still works.
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() { pcre2_code_free(code_); }

Regex::Regex(Regex&& o) noexcept : code_(std::exchange(o.code_, nullptr)), jit_(o.jit_) {}

Regex& Regex::operator=(Regex&& o) noexcept {
  if (this != &o) {
    pcre2_code_free(code_);
    code_ = std::exchange(o.code_, nullptr);
    jit_ = o.jit_;
  }
  return *this;
}

bool Regex::find(std::string_view text, size_t start, RegexScratch& s, size_t& begin, size_t& end,
                 bool anchored) const {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const uint32_t opts = PCRE2_NO_UTF_CHECK | (anchored ? PCRE2_ANCHORED : 0u);
  int rc = jit_ && !anchored ? pcre2_jit_match(code_, subject, text.size(), start, opts, s.md_, s.ctx_)
                             : pcre2_match(code_, subject, text.size(), start, opts, s.md_, s.ctx_);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !s.stack_) {
    // Deeply nested backtracking on a long run: retry once with a stack of up to 16 MB.
    s.stack_ = pcre2_jit_stack_create(256 * 1024, 16 * 1024 * 1024, nullptr);
    s.ctx_ = pcre2_match_context_create(nullptr);
    if (!s.stack_ || !s.ctx_) throw std::bad_alloc();
    pcre2_jit_stack_assign(s.ctx_, nullptr, s.stack_);
    rc = pcre2_match(code_, subject, text.size(), start, opts, s.md_, s.ctx_);
  }
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) fail("tokenizer", "regex match failed: " + pcre2_message(rc));
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.md_);
  begin = ov[0];
  end = ov[1];
  return true;
}

}  // namespace dsinfer
