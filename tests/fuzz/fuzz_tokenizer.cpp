// libFuzzer target: tokenizer.json loading and encoding. The input is a tokenizer.json, a NUL
// byte, then a text: the file is parsed (vocabulary, merges, added tokens, normalizer and
// pre-tokenizer pipelines with their regexes), and when it loads the text is encoded with and
// without special tokens and decoded again. The text alone (no NUL) goes through the fixture's
// DeepSeek-V3 tokenizer, round trip checked. Bad input must end in dsinfer::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/utf8.h"
#include "simd/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsinfer;
  const auto [json, text] = fuzz::split_at_nul(data, size);
  if (text.data() == nullptr) {
    // The real tokenizer: valid UTF-8 comes back byte for byte.
    const Tokenizer& tok = fuzz::fixture_tokenizer();
    try {
      EncodeOptions eo;
      eo.parse_special = false;
      const std::vector<int32_t> ids = tok.encode(json, eo);
      if (tok.decode(ids) != json) std::abort();
    } catch (const Error&) {
      if (utf8::invalid_at(json) == std::string_view::npos) std::abort();  // only invalid UTF-8 may fail
    }
    return 0;
  }
  try {
    const Tokenizer tok(parse_tokenizer_json(json, "tokenizer.json"));
    for (bool special : {true, false}) {
      EncodeOptions eo;
      eo.parse_special = special;
      eo.add_bos = tok.bos_id() >= 0;
      (void)tok.decode(tok.encode(text, eo), !special);
    }
  } catch (const Error&) {
  }
  return 0;
}
