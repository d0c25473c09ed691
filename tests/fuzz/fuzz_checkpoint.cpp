// libFuzzer target: a Hugging Face checkpoint directory as loading sees it. The input is
// config.json, a NUL byte, then model.safetensors: each is parsed on its own (config fields,
// safetensors header and extents), then both as a directory through Model::open (the binding
// of every tensor against the configuration). Bad input must end in dsinfer::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "engine/model/model.h"
#include "engine/model/model_config.h"
#include "quant/safetensors.h"
#include "simd/error.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// One scratch checkpoint directory for the whole run (in memory where /dev/shm exists).
const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string t = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/dsinfer-fuzz-XXXXXX");
    if (!mkdtemp(t.data())) std::abort();
    static const std::string keep = t;
    std::atexit([] {
      unlink((keep + "/config.json").c_str());
      unlink((keep + "/model.safetensors").c_str());
      rmdir(keep.c_str());
    });
    return t;
  }();
  return dir;
}

void put(const std::string& path, std::string_view bytes) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o.write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsinfer;
  const auto [config, tensors] = fuzz::split_at_nul(data, size);
  try {
    (void)parse_hf_config(std::string(config), "config.json");
  } catch (const Error&) {
  }
  const fuzz::MemFile st(reinterpret_cast<const uint8_t*>(tensors.data()), tensors.size());
  try {
    const SafetensorsFile f(st.path());
    for (const StTensor& t : f.tensors()) (void)t.numel();
  } catch (const Error&) {
  }
  const std::string& dir = scratch_dir();
  put(dir + "/config.json", config);
  put(dir + "/model.safetensors", tensors);
  try {
    (void)Model::open(dir);
  } catch (const Error&) {
  }
  return 0;
}
