#include "engine/tokenizer/tokenizer_json.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "quant/input_file.h"
#include "simd/error.h"

namespace dsinfer {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Hugging Face's ByteLevel pre-tokenizer splits with GPT-2's pattern when use_regex is set.
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
// Rust's char::is_ascii_punctuation plus Unicode punctuation, the Punctuation pre-tokenizer's test.
constexpr const char* kPunctuationPattern = "[\\p{P}\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}]";

std::string read_text(const std::string& path) { return read_regular_file(path); }

json parse_json(std::string_view text, const std::string& where) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number past double's range (1E400)
    fail(where, std::string("not valid JSON (") + e.what() + ")");
  }
}

struct Ctx {
  const std::string& where;
  [[noreturn]] void bad(const std::string& what) const { fail(where, what); }

  const json* opt(const json& j, const char* key) const {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  const json& req(const json& j, const char* key, const std::string& in) const {
    const json* v = opt(j, key);
    if (!v) bad(in + " has no \"" + key + "\"");
    return *v;
  }
  std::string str(const json& j, const char* key, const std::string& in) const {
    const json& v = req(j, key, in);
    if (!v.is_string()) bad(in + ": \"" + key + "\" must be a string");
    return v.get<std::string>();
  }
  bool flag(const json& j, const char* key, bool dflt, const std::string& in) const {
    const json* v = opt(j, key);
    if (!v) return dflt;
    if (!v->is_boolean()) bad(in + ": \"" + key + "\" must be true or false");
    return v->get<bool>();
  }
  std::string type(const json& j, const std::string& in) const {
    if (!j.is_object()) bad(in + " must be an object");
    return str(j, "type", in);
  }
};

SplitBehavior behavior_of(const std::string& s, const Ctx& c, const std::string& in) {
  if (s == "Removed") return SplitBehavior::Removed;
  if (s == "Isolated") return SplitBehavior::Isolated;
  if (s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (s == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (s == "Contiguous") return SplitBehavior::Contiguous;
  c.bad(in + ": unknown split behavior '" + s + "'");
}

// {"Regex": "..."} or {"String": "..."}
void read_pattern(const json& j, const Ctx& c, const std::string& in, std::string& pattern, bool& literal) {
  const json& p = c.req(j, "pattern", in);
  if (const json* r = c.opt(p, "Regex"); r && r->is_string()) {
    pattern = r->get<std::string>();
    literal = false;
  } else if (const json* s = c.opt(p, "String"); s && s->is_string()) {
    pattern = s->get<std::string>();
    literal = true;
  } else {
    c.bad(in + ": \"pattern\" must be {\"Regex\": ...} or {\"String\": ...}");
  }
}

void read_normalizer(const json& j, const Ctx& c, std::vector<NormalizerStep>& out) {
  const std::string t = c.type(j, "normalizer");
  const std::string in = "normalizer " + t;
  NormalizerStep st;
  if (t == "Sequence") {
    const json& list = c.req(j, "normalizers", in);
    if (!list.is_array()) c.bad(in + ": \"normalizers\" must be a list");
    for (const json& n : list) read_normalizer(n, c, out);
    return;
  } else if (t == "Replace") {
    st.kind = NormalizerStep::Kind::Replace;
    read_pattern(j, c, in, st.pattern, st.literal);
    st.content = c.str(j, "content", in);
  } else if (t == "Prepend") {
    st.kind = NormalizerStep::Kind::Prepend;
    st.content = c.str(j, "prepend", in);
  } else if (t == "Strip") {
    st.kind = NormalizerStep::Kind::Strip;
    st.left = c.flag(j, "strip_left", false, in);
    st.right = c.flag(j, "strip_right", false, in);
  } else {
    c.bad("normalizer '" + t + "' is not supported (supported: Sequence, Replace, Prepend, Strip)");
  }
  out.push_back(std::move(st));
}

PreTokenizerStep split_step(std::string pattern, SplitBehavior b, bool invert = false, bool literal = false) {
  PreTokenizerStep st;
  st.kind = PreTokenizerStep::Kind::Split;
  st.pattern = std::move(pattern);
  st.literal = literal;
  st.behavior = b;
  st.invert = invert;
  return st;
}

// Returns whether a ByteLevel step was seen.
bool read_pre_tokenizer(const json& j, const Ctx& c, std::vector<PreTokenizerStep>& out) {
  const std::string t = c.type(j, "pre_tokenizer");
  const std::string in = "pre_tokenizer " + t;
  if (t == "Sequence") {
    const json& list = c.req(j, "pretokenizers", in);
    if (!list.is_array()) c.bad(in + ": \"pretokenizers\" must be a list");
    bool byte_level = false;
    for (const json& p : list) byte_level = read_pre_tokenizer(p, c, out) || byte_level;
    return byte_level;
  }
  if (t == "Split") {
    PreTokenizerStep st;
    read_pattern(j, c, in, st.pattern, st.literal);
    st.behavior = behavior_of(c.str(j, "behavior", in), c, in);
    st.invert = c.flag(j, "invert", false, in);
    out.push_back(std::move(st));
  } else if (t == "ByteLevel") {
    if (c.flag(j, "add_prefix_space", true, in)) {
      PreTokenizerStep st;
      st.kind = PreTokenizerStep::Kind::PrefixSpace;
      out.push_back(std::move(st));
    }
    if (c.flag(j, "use_regex", true, in)) out.push_back(split_step(kGpt2Pattern, SplitBehavior::Isolated));
    return true;
  } else if (t == "Digits") {
    const bool each = c.flag(j, "individual_digits", false, in);
    out.push_back(split_step("\\p{N}", each ? SplitBehavior::Isolated : SplitBehavior::Contiguous));
  } else if (t == "Whitespace") {
    out.push_back(split_step("\\w+|[^\\w\\s]+", SplitBehavior::Removed, /*invert=*/true));
  } else if (t == "WhitespaceSplit") {
    out.push_back(split_step("\\s", SplitBehavior::Removed));
  } else if (t == "Punctuation") {
    const SplitBehavior b =
        c.opt(j, "behavior") ? behavior_of(c.str(j, "behavior", in), c, in) : SplitBehavior::Isolated;
    out.push_back(split_step(kPunctuationPattern, b));
  } else if (t == "CharDelimiterSplit") {
    out.push_back(split_step(c.str(j, "delimiter", in), SplitBehavior::Removed, false, /*literal=*/true));
  } else {
    c.bad("pre_tokenizer '" + t +
          "' is not supported (supported: Sequence, Split, ByteLevel, Digits, Whitespace, WhitespaceSplit, "
          "Punctuation, CharDelimiterSplit)");
  }
  return false;
}

bool decoder_is_byte_level(const json& j, const Ctx& c) {
  const std::string t = c.type(j, "decoder");
  if (t == "ByteLevel") return true;
  if (t == "Sequence")
    if (const json* list = c.opt(j, "decoders"); list && list->is_array())
      for (const json& d : *list)
        if (decoder_is_byte_level(d, c)) return true;
  return false;
}

// The id of a token given by its text, or an AddedToken object {"content": ...}.
int32_t token_id_of(const json& v, const TokenizerSpec& spec) {
  std::string text;
  if (v.is_string())
    text = v.get<std::string>();
  else if (v.is_object() && v.contains("content") && v["content"].is_string())
    text = v["content"].get<std::string>();
  else
    return -1;
  int32_t found = -1;
  for (size_t id = 0; id < spec.tokens.size(); ++id)
    if (spec.tokens[id] == text) {
      found = int32_t(id);
      // An added token of that text is the one the tokenizer produces.
      if (spec.types[id] == TokenType::Control || spec.types[id] == TokenType::UserDefined) break;
    }
  return found;
}

// tokenizer.json is mostly model.vocab (~130k entries) and model.merges: those stream straight
// into vectors through the SAX interface, and only the small rest becomes a DOM. (A DOM of the
// whole file costs several times more, mostly in building the vocabulary's std::map.)
class TokenizerJsonReader : public nlohmann::json_sax<json> {
 public:
  json root;
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  bool vocab_seen = false, merges_seen = false;
  // Why parsing stopped, when it did.
  std::string json_error;
  std::optional<std::string> bad_vocab_key;
  std::optional<std::string> bad_merge;  // the offending merge text ("" when not a string)

  bool null() override { return scalar(json(nullptr)); }
  bool boolean(bool v) override { return scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return mode_ == Mode::Vocab ? vocab_id(v) : scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    return mode_ == Mode::Vocab ? vocab_id(v > uint64_t(INT64_MAX) ? -1 : int64_t(v)) : scalar(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return scalar(json(v)); }
  bool binary(binary_t& v) override { return scalar(json::binary(v)); }
  bool string(string_t& v) override {
    if (mode_ == Mode::Merges) {
      const size_t sp = v.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 >= v.size() || v.find(' ', sp + 1) != std::string::npos)
        return merge_error(v);
      merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
      return true;
    }
    if (mode_ == Mode::MergePair) {
      pair_.push_back(std::move(v));
      return pair_.size() <= 2 || merge_error("");
    }
    return scalar(json(std::move(v)));
  }
  bool start_object(std::size_t) override {
    if (mode_ != Mode::None) return scalar(json());
    if (in_model() && key_ == "vocab") {
      mode_ = Mode::Vocab;
      vocab_seen = true;
      return true;
    }
    return open(json::object());
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    if (mode_ == Mode::Vocab)
      mode_ = Mode::None;
    else
      stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (mode_ == Mode::Merges) {
      mode_ = Mode::MergePair;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::None) return scalar(json());
    if (in_model() && key_ == "merges") {
      mode_ = Mode::Merges;
      merges_seen = true;
      return true;
    }
    return open(json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::MergePair) {
      if (pair_.size() != 2) return merge_error("");
      merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::Merges;
    } else if (mode_ == Mode::Merges) {
      mode_ = Mode::None;
    } else {
      stack_.pop_back();
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    json_error = e.what();
    return false;
  }

 private:
  enum class Mode { None, Vocab, Merges, MergePair };

  // Directly inside the top-level "model" object.
  bool in_model() const { return stack_.size() == 2 && stack_[1].second == "model" && stack_[1].first->is_object(); }
  bool vocab_id(int64_t v) {
    if (v < 0) {
      bad_vocab_key = key_;
      return false;
    }
    vocab.emplace_back(std::move(key_), v);
    return true;
  }
  bool merge_error(const std::string& text) {
    bad_merge = text;
    return false;
  }
  // A value outside the vocabulary and merges joins the DOM.
  bool scalar(json v) {
    if (mode_ == Mode::Vocab) return vocab_id(-1);
    if (mode_ != Mode::None) return merge_error("");
    place(std::move(v));
    return true;
  }
  bool open(json v) {
    json* at = place(std::move(v));
    stack_.emplace_back(at, stack_.empty() ? std::string() : key_);
    return true;
  }
  json* place(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& parent = *stack_.back().first;
    if (parent.is_object()) return &(parent[key_] = std::move(v));
    parent.push_back(std::move(v));
    return &parent.back();
  }

  Mode mode_ = Mode::None;
  std::string key_;
  std::vector<std::pair<json*, std::string>> stack_;  // open containers and the key each sits under
  std::vector<std::string> pair_;
};

}  // namespace

bool looks_like_control_token(std::string_view t) {
  auto wrapped = [&](std::string_view open, std::string_view close) {
    return t.size() >= open.size() + close.size() && t.substr(0, open.size()) == open &&
           t.substr(t.size() - close.size()) == close;
  };
  return wrapped("<|", "|>") || wrapped("<｜", "｜>");  // ASCII or fullwidth (U+FF5C) bars
}

TokenizerSpec parse_tokenizer_json(std::string_view json_text, const std::string& where) {
  const Ctx c{where};
  TokenizerJsonReader r;
  r.vocab.reserve(json_text.size() / 64);  // about what a vocabulary entry and its merge take
  r.merges.reserve(json_text.size() / 64);
  if (!json::sax_parse(json_text.begin(), json_text.end(), &r)) {
    if (r.bad_vocab_key) c.bad("model: vocabulary entry '" + *r.bad_vocab_key + "' has no valid id");
    if (r.bad_merge)
      c.bad("merge " + std::to_string(r.merges.size()) +
            (r.bad_merge->empty() ? std::string(" is neither \"a b\" nor [\"a\", \"b\"]")
                                  : " ('" + *r.bad_merge + "') is not two tokens separated by one space"));
    c.bad("not valid JSON (" + r.json_error + ")");
  }
  const json& root = r.root;
  if (!root.is_object()) c.bad("not a tokenizer.json (the top level is not an object)");
  TokenizerSpec spec;
  spec.source = where;

  const json* model = c.opt(root, "model");
  if (!model || !model->is_object()) c.bad("no \"model\" section");
  if (const json* t = c.opt(*model, "type"); t && !(t->is_string() && t->get<std::string>() == "BPE"))
    c.bad("model type " + t->dump() + " is not supported (only BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const json* v = c.opt(*model, key); v && !(v->is_string() && v->get<std::string>().empty()))
      c.bad(std::string("model: \"") + key + "\" is not supported");
  spec.ignore_merges = c.flag(*model, "ignore_merges", false, "model");

  if (!r.vocab_seen) c.bad("model has no \"vocab\" object");
  if (r.vocab.empty()) c.bad("model: the vocabulary is empty");
  if (!r.merges_seen) c.bad("model has no \"merges\" list");
  const json* added = c.opt(root, "added_tokens");
  if (added && !added->is_array()) c.bad("\"added_tokens\" must be a list");

  constexpr int64_t kMaxId = 1 << 24;  // far beyond any real vocabulary; stops absurd allocations
  int64_t n = 0;
  for (const auto& [text, id] : r.vocab) {
    if (id >= kMaxId) c.bad("model: vocabulary entry '" + text + "' has no valid id");
    n = std::max(n, id + 1);
  }
  if (added)
    for (const json& a : *added) {
      const json* id = c.opt(a, "id");
      if (!id || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() >= kMaxId)
        c.bad("an added token has no valid \"id\"");
      n = std::max(n, id->get<int64_t>() + 1);
    }
  spec.tokens.assign(size_t(n), std::string());
  spec.types.assign(size_t(n), TokenType::Unused);
  for (auto& [text, id] : r.vocab) {
    const auto i = size_t(id);
    if (spec.types[i] != TokenType::Unused)
      c.bad("model: token id " + std::to_string(i) + " is used twice in the vocabulary");
    spec.tokens[i] = std::move(text);
    spec.types[i] = TokenType::Normal;
  }
  if (added)
    for (const json& a : *added) {
      const auto i = size_t(a["id"].get<int64_t>());
      const std::string content = c.str(a, "content", "added token " + std::to_string(i));
      if (content.empty()) c.bad("added token " + std::to_string(i) + " has empty content");
      const std::string in = "added token '" + content + "'";
      spec.tokens[i] = content;
      const bool special = c.flag(a, "special", false, in);
      spec.types[i] = special || looks_like_control_token(content) ? TokenType::Control : TokenType::UserDefined;
      AddedTokenFlags f;
      f.lstrip = c.flag(a, "lstrip", false, in);
      f.rstrip = c.flag(a, "rstrip", false, in);
      f.single_word = c.flag(a, "single_word", false, in);
      f.normalized = c.flag(a, "normalized", !special, in);
      spec.added_flags.emplace_back(int32_t(i), f);
    }
  spec.merges = std::move(r.merges);

  if (const json* nz = c.opt(root, "normalizer")) read_normalizer(*nz, c, spec.normalizer);
  bool byte_level = false;
  if (const json* pt = c.opt(root, "pre_tokenizer")) byte_level = read_pre_tokenizer(*pt, c, spec.pre_tokenizer);
  if (!byte_level) c.bad("only byte-level BPE is supported, and the pre_tokenizer has no ByteLevel step");
  if (const json* d = c.opt(root, "decoder"); d && !decoder_is_byte_level(*d, c))
    c.bad("only byte-level BPE is supported, and the decoder is not ByteLevel");
  return spec;
}

TokenizerSpec read_tokenizer_json(const std::string& path) { return parse_tokenizer_json(read_text(path), path); }

void apply_tokenizer_config(std::string_view json_text, const std::string& where, TokenizerSpec& spec) {
  const json root = parse_json(json_text, where);
  const Ctx c{where};
  if (!root.is_object()) c.bad("the top level is not an object");
  if (const json* t = c.opt(root, "chat_template")) {
    if (t->is_string()) {
      spec.chat_template = t->get<std::string>();
    } else if (t->is_array()) {  // named templates: [{"name": "default", "template": ...}, ...]
      for (const json& e : *t)
        if (spec.chat_template.empty() || (c.opt(e, "name") && e["name"] == "default"))
          if (const json* s = c.opt(e, "template"); s && s->is_string()) spec.chat_template = s->get<std::string>();
    } else {
      c.bad("\"chat_template\" must be a string or a list of named templates");
    }
  }
  if (const json* b = c.opt(root, "bos_token")) {
    spec.bos_id = token_id_of(*b, spec);
    if (spec.bos_id < 0) c.bad("bos_token " + b->dump() + " is not a token of the tokenizer");
  }
  if (const json* e = c.opt(root, "eos_token")) {
    spec.eos_id = token_id_of(*e, spec);
    if (spec.eos_id < 0) c.bad("eos_token " + e->dump() + " is not a token of the tokenizer");
  }
  spec.add_bos = c.flag(root, "add_bos_token", spec.add_bos, "tokenizer_config");
}

TokenizerSpec load_tokenizer_spec(const std::string& path) {
  std::error_code ec;
  fs::path dir, file;
  if (fs::is_directory(path, ec)) {
    dir = path;
    file = dir / "tokenizer.json";
    if (!fs::is_regular_file(file, ec)) fail(path, "no tokenizer.json in this directory");
  } else {
    file = path;
    dir = file.parent_path();
  }
  {
    // A FIFO or a device is refused here, saying what it is, without blocking.
    const RegularFile f(file.string());
    char magic[4] = {};
    if (::pread(f.fd(), magic, 4, 0) == 4 && std::string_view(magic, 4) == "GGUF")
      fail(path, "is a GGUF file; its tokenizer is read with the model (give a tokenizer directory here)");
  }
  TokenizerSpec spec = read_tokenizer_json(file.string());
  const fs::path config = dir / "tokenizer_config.json";
  if (fs::is_regular_file(config, ec)) apply_tokenizer_config(read_text(config.string()), config.string(), spec);
  // Newer repositories keep the template in a file of its own.
  const fs::path jinja = dir / "chat_template.jinja";
  if (spec.chat_template.empty() && fs::is_regular_file(jinja, ec)) spec.chat_template = read_text(jinja.string());
  // A tokenizer_config.json without bos/eos: the model's config.json names them by id.
  const fs::path model_config = dir / "config.json";
  if ((spec.bos_id < 0 || spec.eos_id < 0) && fs::is_regular_file(model_config, ec)) {
    const json mc = parse_json(read_text(model_config.string()), model_config.string());
    auto id = [&](const char* key, int32_t& out) {
      const json* v = Ctx{model_config.string()}.opt(mc, key);
      if (out < 0 && v && v->is_number_integer() && v->get<int64_t>() >= 0 &&
          v->get<int64_t>() < int64_t(spec.tokens.size()))
        out = int32_t(v->get<int64_t>());
    };
    id("bos_token_id", spec.bos_id);
    id("eos_token_id", spec.eos_id);
  }
  return spec;
}

std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path) {
  return std::make_unique<Tokenizer>(load_tokenizer_spec(path));
}

}  // namespace dsinfer
