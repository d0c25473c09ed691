// Writes the fuzz targets' seed corpora from the shared fixtures (nothing is committed):
//   make_corpus FIXTURES_DIR OUT_DIR
// OUT_DIR/<target>/ gets small valid inputs of each kind, so mutation starts from files that
// go deep (a real config, real tensor names, a real tokenizer's pipelines) rather than from
// nothing. Every seed stays well under 1 MB.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "engine/model/gguf_metadata.h"
#include "engine/model/model_config.h"
#include "quant/gguf_writer.h"
#include "quant/input_file.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace dsinfer;

namespace {

void put(const fs::path& p, const std::string& bytes) {
  std::ofstream o(p, std::ios::binary | std::ios::trunc);
  o.write(bytes.data(), std::streamsize(bytes.size()));
  if (!o) throw std::runtime_error("cannot write " + p.string());
}

std::vector<std::string> golden_texts(const std::string& fx) {
  std::vector<std::string> out;
  std::ifstream in(fx + "/tokenizer-deepseek-v3/golden.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line)["text"]);
  return out;
}

// The fixture tokenizer.json cut to ids below `keep` (and its added tokens): the same
// pipelines and kinds of entries, a few kilobytes instead of megabytes.
json small_tokenizer(const std::string& fx, int64_t keep) {
  json t = json::parse(read_regular_file(fx + "/tokenizer-deepseek-v3/tokenizer.json"));
  json vocab = json::object();
  std::set<std::string> kept;
  for (auto it = t["model"]["vocab"].begin(); it != t["model"]["vocab"].end(); ++it)
    if (it.value().get<int64_t>() < keep) vocab[it.key()] = it.value(), kept.insert(it.key());
  json merges = json::array();
  for (const json& m : t["model"]["merges"]) {
    std::string a, b;
    if (m.is_string()) {
      const std::string s = m;
      a = s.substr(0, s.find(' ')), b = s.substr(s.find(' ') + 1);
    } else {
      a = m[0], b = m[1];
    }
    if (kept.count(a) && kept.count(b) && kept.count(a + b)) merges.push_back(m);
  }
  t["model"]["vocab"] = vocab;
  t["model"]["merges"] = merges;
  json added = json::array();
  int64_t next = keep;
  for (json a : t["added_tokens"]) {
    a["id"] = next++;
    added.push_back(a);
    if (added.size() >= 8) break;
  }
  t["added_tokens"] = added;
  return t;
}

// A safetensors file of the fixture shard's small tensors (norms, biases, scales): real names,
// valid offsets, a few kilobytes.
std::string small_safetensors(const std::string& shard) {
  const std::string bytes = read_regular_file(shard);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | uint8_t(bytes[size_t(i)]);
  const json header = json::parse(bytes.substr(8, hlen));
  json out = json::object();
  std::string data;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const uint64_t b = it.value()["data_offsets"][0], e = it.value()["data_offsets"][1];
    if (e - b > 4096 || out.size() >= 24) continue;
    json entry = it.value();
    entry["data_offsets"] = {data.size(), data.size() + (e - b)};
    data += bytes.substr(8 + hlen + b, e - b);
    out[it.key()] = entry;
  }
  std::string h = out.dump();
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[size_t(i)] = char((uint64_t(h.size()) >> (8 * i)) & 0xFF);
  return file + h + data;
}

// A deepseek2 GGUF with the fixture's configuration, a small tokenizer and tensors of each type.
void small_gguf(const std::string& fx, const fs::path& out, bool with_tensors) {
  const ModelConfig c = load_hf_config(fx + "/tiny-v3-fp8/config.json");
  const json t = small_tokenizer(fx, 300);
  GgufWriter w(out.string());
  write_deepseek2_metadata(w, c, true);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "deepseek-v3");
  std::vector<std::string> tokens(size_t(300 + t["added_tokens"].size()));
  for (auto it = t["model"]["vocab"].begin(); it != t["model"]["vocab"].end(); ++it)
    tokens[size_t(it.value().get<int64_t>())] = it.key();
  for (const json& a : t["added_tokens"]) tokens[size_t(a["id"].get<int64_t>())] = a["content"];
  std::vector<std::string> merges;
  for (const json& m : t["model"]["merges"]) merges.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  w.set_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.bos_token_id", 0);
  w.set_u32("tokenizer.ggml.eos_token_id", 1);
  if (with_tensors) {
    const std::pair<const char*, DType> kinds[] = {{"token_embd.weight", DType::Q8_0}, {"blk.0.attn_norm.weight", DType::F32},
                                                   {"blk.0.attn_q_a.weight", DType::Q4_0}, {"output_norm.weight", DType::F16},
                                                   {"output.weight", DType::BF16}};
    for (const auto& [name, type] : kinds) w.add_tensor(name, type, {64, 2});
    w.write_header();
    for (const auto& [name, type] : kinds) {
      const std::vector<uint8_t> zeros(dtype_row_bytes(type, 64) * 2, 0);
      w.write_tensor_data(name, zeros.data(), zeros.size());
    }
  }
  w.finish();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_corpus FIXTURES_DIR OUT_DIR\n";
    return 2;
  }
  const std::string fx = argv[1];
  const fs::path out = argv[2];
  try {
    for (const char* d : {"gguf", "checkpoint", "tokenizer", "batch_record", "chat_command"}) fs::create_directories(out / d);
    const std::vector<std::string> texts = golden_texts(fx);

    small_gguf(fx, out / "gguf" / "tensors.gguf", true);
    small_gguf(fx, out / "gguf" / "metadata.gguf", false);

    for (const char* m : {"tiny-v3-fp8", "tiny-v2lite-bf16"}) {
      const std::string config = read_regular_file(fx + "/" + m + "/config.json");
      put(out / "checkpoint" / (std::string(m) + "-config"), config);
      const std::string shard = fx + "/" + m + "/model-00001-of-00004.safetensors";
      put(out / "checkpoint" / (std::string(m) + "-shard"), config + std::string(1, '\0') + small_safetensors(shard));
    }

    const std::string tok = small_tokenizer(fx, 1000).dump();
    for (size_t i = 0; i < texts.size(); i += 8) {
      put(out / "tokenizer" / ("json-" + std::to_string(i)), tok + std::string(1, '\0') + texts[i]);
      put(out / "tokenizer" / ("text-" + std::to_string(i)), texts[i]);
    }

    std::string records;
    for (size_t i = 0; i < texts.size() && i < 12; ++i) {
      json r = {{"id", i}, {"prompt", texts[i]}};
      if (i % 3 == 1) r = {{"id", "r" + std::to_string(i)}, {"messages", {{{"role", "user"}, {"content", texts[i]}}}}};
      if (i % 4 == 2) r["max_tokens"] = 16, r["temperature"] = 0.7, r["top_p"] = 0.9, r["top_k"] = 40, r["seed"] = 3;
      if (i % 5 == 3) r["stop"] = {"\n", "."}, r["min_p"] = 0.05;
      records += r.dump() + "\n";
      put(out / "batch_record" / ("one-" + std::to_string(i)), r.dump() + "\n");
    }
    put(out / "batch_record" / "many", records + "not json\n{\"prompt\": \"no id\"}\n{\"id\": 9, \"prompt\": 5}\n");

    put(out / "chat_command" / "session",
        "In the beginning\n/set temp 0.7\n/set top_k 40\n/set seed 18446744073709551615\n/set max_tokens 64\n"
        "/system Be brief.\nAnd the earth\n/stats\n/reset\n/help\n/bogus x\n"
        "/load {\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n");
    for (size_t i = 0; i < texts.size(); i += 16) put(out / "chat_command" / ("text-" + std::to_string(i)), texts[i] + "\n");
  } catch (const std::exception& e) {
    std::cerr << "make_corpus: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
