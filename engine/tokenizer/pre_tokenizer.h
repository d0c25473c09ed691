// The normalizer and pre-tokenizer pipelines a tokenizer declares, compiled once (regexes
// JIT-compiled) and then run over each stretch of text between added tokens.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/regex.h"
#include "engine/tokenizer/tokenizer_spec.h"

namespace dsinfer {

class Normalizer {
 public:
  Normalizer(const std::vector<NormalizerStep>& steps, const std::string& where);
  bool identity() const { return steps_.empty(); }
  void apply(std::string_view text, std::string& out, RegexScratch& rs) const;

 private:
  struct Step {
    NormalizerStep spec;
    std::optional<Regex> re;
  };
  std::vector<Step> steps_;
  Regex space_;
};

// Receives the pre-tokens, in text order.
class PieceSink {
 public:
  virtual void piece(std::string_view p) = 0;

 protected:
  ~PieceSink() = default;
};

// Per-thread working memory of PreTokenizer::run.
struct PreTokenizerScratch {
  std::vector<std::vector<std::string_view>> pieces;  // per step
  std::vector<std::string> prefixed;                  // per step, for PrefixSpace
  std::vector<std::pair<size_t, size_t>> matches;
  struct Segment {
    size_t begin, end;
    bool match;
  };
  std::vector<Segment> segments;
};

class PreTokenizer {
 public:
  PreTokenizer(const std::vector<PreTokenizerStep>& steps, const std::string& where);
  // Splits `text` (valid UTF-8) step by step; each final non-empty piece goes to sink.
  void run(std::string_view text, PreTokenizerScratch& s, RegexScratch& rs, PieceSink& sink) const;

 private:
  struct Step {
    PreTokenizerStep spec;
    std::optional<Regex> re;
  };
  void run_from(size_t k, std::string_view piece, PreTokenizerScratch& s, RegexScratch& rs, PieceSink& sink) const;
  void split(const Step& st, std::string_view piece, PreTokenizerScratch& s, RegexScratch& rs,
             std::vector<std::string_view>& out) const;
  std::vector<Step> steps_;
};

// Every match of `re` in text, Rust-style: an empty match never directly follows another match.
void find_all(const Regex& re, std::string_view text, RegexScratch& rs, std::vector<std::pair<size_t, size_t>>& out);

}  // namespace dsinfer
