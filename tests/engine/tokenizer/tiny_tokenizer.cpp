#include "tests/engine/tokenizer/tiny_tokenizer.h"

namespace dsinfer::test {

std::string gpt2_char(int byte) {
  // Printable Latin-1 stands for itself; every other byte, in order, takes U+0100, U+0101, ...
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  unsigned cp = unsigned(byte);
  if (!printable(byte)) {
    cp = 256;
    for (int b = 0; b < byte; ++b)
      if (!printable(b)) ++cp;
  }
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

nlohmann::json tiny_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[gpt2_char(b)] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  auto added = [](int id, const char* text, bool special, bool strip) {
    return nlohmann::json{{"id", id},        {"content", text},        {"single_word", false}, {"lstrip", strip},
                          {"rstrip", strip}, {"normalized", !special}, {"special", special}};
  };
  return {
      {"version", "1.0"},
      {"added_tokens", {added(260, "<|sp|>", true, false), added(261, "<tool>", false, true)}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"vocab", vocab},
        {"merges", {"h e", "l l", "he ll", "hell o"}}}},
  };
}

}  // namespace dsinfer::test
