#include "engine/tokenizer/tokenizer.h"

#include <cstdio>

#include "engine/tokenizer/byte_level.h"
#include "engine/tokenizer/utf8.h"
#include "engine/tokenizer/utf8_stream.h"
#include "simd/error.h"

namespace dsinfer {

namespace {

bool is_added(TokenType t) { return t == TokenType::Control || t == TokenType::UserDefined; }

const std::string& checked_source(const TokenizerSpec& s) {
  static const std::string unnamed = "tokenizer";
  const std::string& where = s.source.empty() ? unnamed : s.source;
  if (s.tokens.empty()) fail(where, "the vocabulary is empty");
  if (!s.types.empty() && s.types.size() != s.tokens.size())
    fail(where, std::to_string(s.types.size()) + " token types for " + std::to_string(s.tokens.size()) + " tokens");
  for (const auto& [id, flags] : s.added_flags)
    if (id < 0 || size_t(id) >= s.tokens.size())
      fail(where, "added token id " + std::to_string(id) + " is out of range");
  for (int32_t id : {s.bos_id, s.eos_id})
    if (id < -1 || (id >= 0 && size_t(id) >= s.tokens.size()))
      fail(where, "special token id " + std::to_string(id) + " is outside the vocabulary");
  return where;
}

TokenType type_of(const TokenizerSpec& s, size_t id) { return s.types.empty() ? TokenType::Normal : s.types[id]; }

std::vector<AddedTokenMatcher::Entry> added_entries(const TokenizerSpec& s, bool normalized, const Normalizer& nz) {
  std::vector<AddedTokenFlags> flags(s.tokens.size());
  for (const auto& [id, f] : s.added_flags) flags[size_t(id)] = f;
  std::vector<AddedTokenMatcher::Entry> out;
  RegexScratch rs;
  for (size_t id = 0; id < s.tokens.size(); ++id) {
    const TokenType t = type_of(s, id);
    if (!is_added(t) || flags[id].normalized != normalized || s.tokens[id].empty()) continue;
    AddedTokenMatcher::Entry e{int32_t(id), s.tokens[id], flags[id], t == TokenType::Control};
    if (normalized && !nz.identity()) nz.apply(s.tokens[id], e.text, rs);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

// Everything one encode() call works with, so the Tokenizer itself stays immutable.
struct Tokenizer::Work final : PieceSink {
  const Tokenizer& t;
  std::vector<int32_t>& out;
  RegexScratch rs;
  PreTokenizerScratch ps;
  BpeScratch bs;
  std::vector<AddedTokenMatch> matches;
  std::string run;          // plain text waiting for the pre-tokenizer
  bool run_special = true;  // every part that fed `run` allows control tokens
  std::string normalized;
  // Pre-tokens seen earlier in this call and their ids: words repeat, and merging is the costly
  // part. Short pieces only, and a bounded number, so memory stays small on any input.
  static constexpr size_t kCachedLength = 24, kCachedPieces = 1 << 16;
  TokenIndex cache{1024};
  std::vector<std::pair<uint32_t, uint32_t>> cached;  // cache value -> range in cached_ids
  std::vector<int32_t> cached_ids;

  Work(const Tokenizer& tok, std::vector<int32_t>& o) : t(tok), out(o) {}

  void piece(std::string_view p) override {
    const bool cacheable = p.size() > 1 && p.size() <= kCachedLength;
    if (cacheable) {
      if (const int32_t hit = cache.find(p); hit >= 0) {
        const auto [b, n] = cached[size_t(hit)];
        out.insert(out.end(), cached_ids.begin() + b, cached_ids.begin() + b + n);
        return;
      }
    }
    const size_t before = out.size();
    merge(p);
    if (cacheable && cached.size() < kCachedPieces) {
      cache.add(p, int32_t(cached.size()));
      cached.emplace_back(uint32_t(cached_ids.size()), uint32_t(out.size() - before));
      cached_ids.insert(cached_ids.end(), out.begin() + std::ptrdiff_t(before), out.end());
    }
  }

  void merge(std::string_view p) {
    if (t.ignore_merges_) {
      const int32_t whole = t.by_text_.find(byte_level::encode(p));
      if (whole >= 0) {
        out.push_back(whole);
        return;
      }
    }
    if (!t.bpe_.encode(p, out, bs)) {
      for (char c : p)
        if (t.bpe_.byte_id(uint8_t(c)) < 0) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02X", unsigned(uint8_t(c)));
          fail(t.source_, std::string("the vocabulary has no token for byte ") + hex);
        }
    }
  }
};

Tokenizer::Tokenizer(const TokenizerSpec& spec)
    : source_(checked_source(spec)),
      normalizer_(spec.normalizer, source_),
      pre_tokenizer_(spec.pre_tokenizer, source_),
      raw_added_(added_entries(spec, false, normalizer_)),
      normalized_added_(added_entries(spec, true, normalizer_)),
      bos_id_(spec.bos_id),
      eos_id_(spec.eos_id),
      add_bos_(spec.add_bos),
      chat_template_(spec.chat_template) {
  const size_t n = spec.tokens.size();
  types_.resize(n);
  for (size_t id = 0; id < n; ++id) types_[id] = type_of(spec, id);

  // Text -> id, added tokens first: like Hugging Face, their text wins over a vocabulary entry.
  by_text_ = TokenIndex(n);
  for (int pass = 0; pass < 2; ++pass)
    for (size_t id = 0; id < n; ++id)
      if (types_[id] != TokenType::Unused && is_added(types_[id]) == (pass == 0))
        by_text_.add(spec.tokens[id], int32_t(id));

  std::array<int32_t, 256> byte_ids;
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8::append(ch, byte_level::char_of_byte(uint8_t(b)));
    byte_ids[size_t(b)] = by_text_.find(ch);
  }
  bpe_ = BpeModel(byte_ids, spec.merges.size());
  std::string joined;
  for (size_t r = 0; r < spec.merges.size(); ++r) {
    // Named references, not a structured binding: clang 14 cannot capture those in the lambda.
    const std::string &a = spec.merges[r].first, &b = spec.merges[r].second;
    auto bad = [&](const std::string& what) {
      fail(source_, "merge " + std::to_string(r) + " ('" + a + " " + b + "'): " + what);
    };
    const int32_t ia = by_text_.find(a), ib = by_text_.find(b);
    if (ia < 0) bad("'" + a + "' is not in the vocabulary");
    if (ib < 0) bad("'" + b + "' is not in the vocabulary");
    joined.assign(a).append(b);
    const int32_t im = by_text_.find(joined);
    if (im < 0) bad("the merged token '" + joined + "' is not in the vocabulary");
    bpe_.add_merge(ia, ib, uint32_t(r), im);
  }
  ignore_merges_ = spec.ignore_merges;

  // What each token prints as, decided once. Hugging Face's byte-level decoder maps a token's
  // characters back to bytes when all of them are in the alphabet, else keeps its text as is.
  bytes_offset_.reserve(n + 1);
  bytes_.reserve(n * 8);
  std::string decoded;
  for (size_t id = 0; id < n; ++id) {
    bytes_offset_.push_back(uint32_t(bytes_.size()));
    if (types_[id] == TokenType::Unused) continue;
    const std::string& text = spec.tokens[id];
    if (byte_level::decode(text, decoded))
      bytes_ += decoded;
    else
      bytes_ += text;
  }
  bytes_offset_.push_back(uint32_t(bytes_.size()));
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= n_tokens())
    fail(source_,
         "token id " + std::to_string(id) + " is outside the vocabulary (" + std::to_string(n_tokens()) + " tokens)");
}

TokenType Tokenizer::token_type(int32_t id) const {
  check_id(id);
  return types_[size_t(id)];
}

std::string_view Tokenizer::token_bytes(int32_t id) const {
  check_id(id);
  const uint32_t b = bytes_offset_[size_t(id)], e = bytes_offset_[size_t(id) + 1];
  return std::string_view(bytes_).substr(b, e - b);
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const int32_t id = by_text_.find(text);
  if (id < 0) return std::nullopt;
  return id;
}

void Tokenizer::encode_plain(std::string_view text, Work& w) const { pre_tokenizer_.run(text, w.ps, w.rs, w); }

void Tokenizer::flush(Work& w) const {
  if (w.run.empty()) return;
  if (normalizer_.identity()) {
    encode_plain(w.run, w);
  } else {
    normalizer_.apply(w.run, w.normalized, w.rs);
    const std::string_view text = w.normalized;
    w.matches.clear();
    if (!normalized_added_.empty()) normalized_added_.find(text, w.run_special, w.rs, w.matches);
    size_t prev = 0;
    for (const AddedTokenMatch& m : w.matches) {
      encode_plain(text.substr(prev, m.begin - prev), w);
      w.out.push_back(m.id);
      prev = m.end;
    }
    encode_plain(text.substr(prev), w);
  }
  w.run.clear();
  w.run_special = true;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& o) const {
  const TextPart part{text, o.parse_special};
  return encode(std::span<const TextPart>(&part, 1), o.add_bos);
}

std::vector<int32_t> Tokenizer::encode(std::span<const TextPart> parts, bool add_bos) const {
  std::vector<int32_t> out;
  Work w(*this, out);
  if (add_bos) {
    if (bos_id_ < 0) fail(source_, "this tokenizer has no BOS token");
    out.push_back(bos_id_);
  }
  std::vector<AddedTokenMatch> raw, norm;
  // One stretch of text under one permission. Raw added tokens are split off first, then (when
  // normalizing changes nothing) the normalized ones; plain text collects in w.run until a token
  // interrupts it, so text joins across part boundaries exactly as in the concatenated string.
  auto process = [&](std::string_view text, bool special) {
    raw.clear();
    if (!raw_added_.empty()) raw_added_.find(text, special, w.rs, raw);
    size_t prev = 0;
    for (size_t i = 0; i <= raw.size(); ++i) {
      const std::string_view stretch = text.substr(prev, (i < raw.size() ? raw[i].begin : text.size()) - prev);
      if (normalizer_.identity()) {
        norm.clear();
        if (!normalized_added_.empty()) normalized_added_.find(stretch, special, w.rs, norm);
        size_t p = 0;
        for (const AddedTokenMatch& m : norm) {
          w.run.append(stretch.substr(p, m.begin - p));
          flush(w);
          out.push_back(m.id);
          p = m.end;
        }
        w.run.append(stretch.substr(p));
      } else if (!stretch.empty()) {
        w.run.append(stretch);
        w.run_special = w.run_special && special;
      }
      if (i < raw.size()) {
        flush(w);
        out.push_back(raw[i].id);
        prev = raw[i].end;
      }
    }
  };
  std::string merged;
  bool merged_special = false, have = false;
  for (const TextPart& p : parts) {
    const size_t bad = utf8::invalid_at(p.text);
    if (bad != std::string_view::npos)
      fail("tokenize", "the text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
    // Neighbours with the same permission are one text, so a token may span them.
    if (have && p.special == merged_special) {
      merged.append(p.text);
      continue;
    }
    if (have) process(merged, merged_special);
    merged.assign(p.text);
    merged_special = p.special;
    have = true;
  }
  if (have) process(merged, merged_special);
  flush(w);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  Utf8Stream u;
  for (int32_t id : ids) {
    const std::string_view b = token_bytes(id);
    if (skip_special && types_[size_t(id)] == TokenType::Control) continue;
    u.push(b, out);
  }
  u.finish(out);
  return out;
}

}  // namespace dsinfer
