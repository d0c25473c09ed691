// A hand-made byte-level tokenizer.json small enough to reason about: ids 0-255 are the bytes
// (GPT-2's alphabet, written out here independently of the engine), a few merges spelling
// "hello", and two added tokens.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace dsinfer::test {

// GPT-2's stand-in character for a byte, as UTF-8.
std::string gpt2_char(int byte);

// ids: bytes 0-255, 256 "he", 257 "ll", 258 "hell", 259 "hello", 260 "<|sp|>" (special),
// 261 "<tool>" (user-defined, lstrip + rstrip). Pre-tokenizer: ByteLevel, GPT-2 regex.
nlohmann::json tiny_tokenizer_json();

}  // namespace dsinfer::test
