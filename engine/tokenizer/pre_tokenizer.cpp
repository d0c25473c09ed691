#include "engine/tokenizer/pre_tokenizer.h"

#include "engine/tokenizer/utf8.h"
#include "simd/error.h"

namespace dsinfer {

void find_all(const Regex& re, std::string_view text, RegexScratch& rs, std::vector<std::pair<size_t, size_t>>& out) {
  out.clear();
  const size_t n = text.size();
  size_t pos = 0, last_end = std::string_view::npos;
  size_t b, e;
  while (pos <= n && re.find(text, pos, rs, b, e)) {
    if (b == e) {
      if (b != last_end) {
        out.emplace_back(b, e);
        last_end = e;
      }
      if (b >= n) break;
      pos = b + utf8::char_len(text, b);
    } else {
      out.emplace_back(b, e);
      last_end = pos = e;
    }
  }
}

namespace {
// Emits the segments left to right, a segment joining the piece before it when
// join(its match, the previous segment's match) holds.
template <class Segments, class Emit, class Join>
void merge_forward(const Segments& seg, Emit& emit, Join join) {
  std::vector<std::pair<size_t, size_t>> acc;
  bool prev_match = false;
  for (const auto& g : seg) {
    if (join(g.match, prev_match) && !acc.empty())
      acc.back().second = g.end;
    else
      acc.emplace_back(g.begin, g.end);
    prev_match = g.match;
  }
  for (auto [b, e] : acc) emit(b, e);
}
}  // namespace

Normalizer::Normalizer(const std::vector<NormalizerStep>& steps, const std::string& where) : space_("\\s", where) {
  for (const NormalizerStep& st : steps) {
    Step s{st, std::nullopt};
    if (st.kind == NormalizerStep::Kind::Replace) s.re.emplace(st.pattern, where + ": normalizer Replace", st.literal);
    steps_.push_back(std::move(s));
  }
}

void Normalizer::apply(std::string_view text, std::string& out, RegexScratch& rs) const {
  out.assign(text);
  std::string next;
  std::vector<std::pair<size_t, size_t>> matches;
  for (const Step& st : steps_) {
    switch (st.spec.kind) {
      case NormalizerStep::Kind::Replace: {
        find_all(*st.re, out, rs, matches);
        if (matches.empty()) break;
        next.clear();
        size_t prev = 0;
        for (auto [b, e] : matches) {
          next.append(out, prev, b - prev);
          next += st.spec.content;
          prev = e;
        }
        next.append(out, prev);
        out.swap(next);
        break;
      }
      case NormalizerStep::Kind::Prepend:
        if (!out.empty()) out.insert(0, st.spec.content);
        break;
      case NormalizerStep::Kind::Strip: {
        size_t b = 0, e = out.size(), mb, me;
        if (st.spec.left)
          while (b < e && space_.find(out, b, rs, mb, me, true)) b = me;
        if (st.spec.right)
          while (e > b) {
            const size_t c = utf8::prev_char(out, e);
            if (!space_.find(out, c, rs, mb, me, true)) break;
            e = c;
          }
        out = out.substr(b, e - b);
        break;
      }
    }
  }
}

PreTokenizer::PreTokenizer(const std::vector<PreTokenizerStep>& steps, const std::string& where) {
  for (const PreTokenizerStep& st : steps) {
    Step s{st, std::nullopt};
    if (st.kind == PreTokenizerStep::Kind::Split) s.re.emplace(st.pattern, where + ": pre_tokenizer Split", st.literal);
    steps_.push_back(std::move(s));
  }
}

void PreTokenizer::run(std::string_view text, PreTokenizerScratch& s, RegexScratch& rs, PieceSink& sink) const {
  if (s.pieces.size() < steps_.size()) {
    s.pieces.resize(steps_.size());
    s.prefixed.resize(steps_.size());
  }
  run_from(0, text, s, rs, sink);
}

// Depth-first: each piece goes through the remaining steps before its neighbours, so the work
// stays in cache and no list of all pieces of a long text is ever built.
void PreTokenizer::run_from(size_t k, std::string_view piece, PreTokenizerScratch& s, RegexScratch& rs,
                            PieceSink& sink) const {
  if (piece.empty()) return;
  if (k == steps_.size()) {
    sink.piece(piece);
    return;
  }
  const Step& st = steps_[k];
  if (st.spec.kind == PreTokenizerStep::Kind::PrefixSpace) {
    if (piece[0] == ' ') return run_from(k + 1, piece, s, rs, sink);
    std::string& buf = s.prefixed[k];
    buf.assign(1, ' ');
    buf.append(piece);
    return run_from(k + 1, buf, s, rs, sink);
  }
  std::vector<std::string_view>& out = s.pieces[k];
  out.clear();
  split(st, piece, s, rs, out);
  for (std::string_view p : out) run_from(k + 1, p, s, rs, sink);
}

void PreTokenizer::split(const Step& st, std::string_view piece, PreTokenizerScratch& s, RegexScratch& rs,
                         std::vector<std::string_view>& out) const {
  find_all(*st.re, piece, rs, s.matches);
  const size_t n = piece.size();
  auto emit = [&](size_t b, size_t e) {
    if (e > b) out.push_back(piece.substr(b, e - b));
  };
  if (st.spec.behavior == SplitBehavior::Isolated) {  // the common case, without the segment list
    size_t prev = 0;
    for (auto [b, e] : s.matches) {
      emit(prev, b);
      emit(b, e);
      prev = e;
    }
    emit(prev, n);
    return;
  }
  // Hugging Face's scheme: the text as alternating segments (delimiters flagged), then folded.
  auto& seg = s.segments;
  seg.clear();
  size_t prev = 0;
  for (auto [b, e] : s.matches) {
    if (prev != b) seg.push_back({prev, b, false});
    seg.push_back({b, e, true});
    prev = e;
  }
  if (prev != n) seg.push_back({prev, n, false});
  if (st.spec.invert)
    for (auto& g : seg) g.match = !g.match;

  switch (st.spec.behavior) {
    case SplitBehavior::Removed:
      for (const auto& g : seg)
        if (!g.match) emit(g.begin, g.end);
      break;
    case SplitBehavior::Isolated:
      for (const auto& g : seg) emit(g.begin, g.end);
      break;
    case SplitBehavior::MergedWithPrevious:
      // A delimiter joins the piece before it, unless that piece is itself a delimiter.
      merge_forward(seg, emit, [](bool match, bool prev) { return match && !prev; });
      break;
    case SplitBehavior::MergedWithNext: {
      std::vector<std::pair<size_t, size_t>> acc;  // built back to front
      bool next_match = false;
      for (size_t i = seg.size(); i-- > 0;) {
        const auto& g = seg[i];
        if (g.match && !next_match && !acc.empty())
          acc.back().first = g.begin;
        else
          acc.emplace_back(g.begin, g.end);
        next_match = g.match;
      }
      for (size_t i = acc.size(); i-- > 0;) emit(acc[i].first, acc[i].second);
      break;
    }
    case SplitBehavior::Contiguous:
      // Consecutive pieces of the same kind join.
      merge_forward(seg, emit, [](bool match, bool prev) { return match == prev; });
      break;
  }
}

}  // namespace dsinfer
