#include "quant/safetensors.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quant/input_file.h"
#include "simd/error.h"
#include "simd/shape.h"

namespace dsinfer {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
// The reference implementation refuses headers above 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeader = 100u << 20;

}  // namespace

int64_t StTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : map_(path) {
  const size_t size = map_.size();
  if (size < 8) fail(path, "truncated safetensors file: " + std::to_string(size) + " bytes, no header length");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | map_.data()[i];
  if (hlen > kMaxHeader) fail(path, "header length " + std::to_string(hlen) + " exceeds the 100 MB limit");
  if (8 + hlen > size)
    fail(path, "header length " + std::to_string(hlen) + " runs past the end of the file (" + std::to_string(size) +
                   " bytes)");
  const char* hbeg = reinterpret_cast<const char*>(map_.data() + 8);
  json header;
  try {
    header = json::parse(hbeg, hbeg + hlen);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number past double's range (1E400)
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  const uint8_t* data0 = map_.data() + 8 + hlen;
  const uint64_t data_size = size - 8 - hlen;
  struct Extent {
    uint64_t b, e;
    size_t idx;
  };
  std::vector<Extent> extents;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& name = it.key();
    const json& v = it.value();
    auto bad = [&](const std::string& what) { fail(path, "tensor '" + name + "': " + what); };
    if (!v.is_object()) bad("entry is not an object");
    if (!v.contains("dtype") || !v["dtype"].is_string()) bad("missing dtype");
    auto dt = dtype_from_safetensors(v["dtype"].get<std::string>());
    if (!dt) bad("unknown dtype '" + v["dtype"].get<std::string>() + "'");
    if (!v.contains("shape") || !v["shape"].is_array()) bad("missing shape");
    StTensor t;
    t.name = name;
    t.dtype = *dt;
    uint64_t numel = 1;
    for (const json& d : v["shape"]) {
      if (!d.is_number_unsigned()) bad("shape has a non-integer or negative dimension");
      uint64_t n = d.get<uint64_t>();
      if (n > (1ull << 40) || (n && numel > (1ull << 50) / n)) bad("shape is implausibly large");
      numel *= n;
      t.shape.push_back(int64_t(n));
    }
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned())
      bad("data_offsets must be two non-negative integers");
    const uint64_t b = v["data_offsets"][0].get<uint64_t>(), e = v["data_offsets"][1].get<uint64_t>();
    if (b > e) bad("data_offsets begin " + std::to_string(b) + " > end " + std::to_string(e));
    if (e > data_size)
      bad("data_offsets end " + std::to_string(e) + " is past the end of the file (data section has " +
          std::to_string(data_size) + " bytes; truncated?)");
    const uint64_t want = numel * dtype_info(*dt).block_bytes;
    if (e - b != want)
      bad("dtype " + std::string(dtype_name(*dt)) + " x shape " + shape_str(t.shape) + " needs " +
          std::to_string(want) + " bytes but data_offsets span " + std::to_string(e - b));
    t.data = data0 + b;
    t.nbytes = size_t(e - b);
    t.file = &map_.path();
    extents.push_back({b, e, tensors_.size()});
    tensors_.push_back(std::move(t));
  }
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) { return a.b < b.b; });
  const Extent* prev = nullptr;  // the non-empty extent reaching furthest so far
  for (const Extent& x : extents) {
    if (x.e == x.b) continue;
    if (prev && x.b < prev->e)
      fail(path, "tensors '" + tensors_[prev->idx].name + "' and '" + tensors_[x.idx].name +
                     "' overlap in the data section");
    if (!prev || x.e > prev->e) prev = &x;
  }
  for (size_t i = 0; i < tensors_.size(); ++i) by_name_.emplace(tensors_[i].name, i);
}

const StTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::string& dir) : dir_(dir) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail(dir, "not a directory");
  const fs::path index_path = root / "model.safetensors.index.json";
  if (fs::exists(index_path, ec)) {
    const std::string ip = index_path.string();
    json idx;
    try {
      idx = json::parse(read_regular_file(ip));
    } catch (const json::exception& e) {  // as for the header
      fail(ip, std::string("not valid JSON: ") + e.what());
    }
    if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
      fail(ip, "missing the weight_map object");
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      if (!it.value().is_string()) fail(ip, "weight_map entry '" + it.key() + "' is not a file name");
      const std::string shard = it.value().get<std::string>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
        fail(ip, "weight_map entry '" + it.key() + "' names an invalid shard '" + shard + "'");
      by_shard[shard].push_back(it.key());
    }
    if (by_shard.empty()) fail(ip, "weight_map is empty");
    for (const auto& [shard, names] : by_shard) {
      const std::string sp = (root / shard).string();
      if (!fs::exists(sp, ec)) fail(sp, "shard named in model.safetensors.index.json does not exist");
      files_.push_back(std::make_unique<SafetensorsFile>(sp));
      const SafetensorsFile& f = *files_.back();
      for (const std::string& n : names) {
        const StTensor* t = f.find(n);
        if (!t) fail(sp, "tensor '" + n + "' named in model.safetensors.index.json is missing from this shard");
        index_.emplace(n, t);
      }
    }
  } else {
    const fs::path single = root / "model.safetensors";
    if (!fs::exists(single, ec))
      fail(dir, "no model.safetensors.index.json or model.safetensors: not a Hugging Face checkpoint");
    files_.push_back(std::make_unique<SafetensorsFile>(single.string()));
    for (const StTensor& t : files_.back()->tensors()) index_.emplace(t.name, &t);
  }
}

const StTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : it->second;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& kv : index_) out.push_back(kv.first);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dsinfer
