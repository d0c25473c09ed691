// libFuzzer target: a GGUF file through everything that reads one before inference: the
// reader's validation, every metadata value shown as inspect shows it, the deepseek2
// configuration, the tensor binding and the embedded tokenizer. Bad input must end in
// dsinfer::Error; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>

#include "engine/model/gguf_binding.h"
#include "engine/model/gguf_metadata.h"
#include "engine/tokenizer/gguf_tokenizer.h"
#include "engine/tokenizer/gguf_vocab.h"
#include "quant/gguf_reader.h"
#include "simd/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsinfer;
  const fuzz::MemFile file(data, size);
  try {
    const GgufFile f(file.path());
    for (const GgufKv& kv : f.metadata()) (void)kv.value.to_string();
    for (const GgufTensor& t : f.tensors()) (void)t.shape_str();
    try {
      if (const auto v = read_gguf_vocab(f)) {
        const Tokenizer tok(spec_from_gguf(*v, f.path()));
        (void)tok.decode(tok.encode("Hello, world 123"));
      }
    } catch (const Error&) {
    }
    const ModelConfig c = read_deepseek2_config(f);
    (void)bind_gguf(f, c);
  } catch (const Error&) {
  }
  return 0;
}
