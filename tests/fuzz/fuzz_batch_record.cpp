// libFuzzer target: `dsinfer batch` input, line by line as the command reads it: each line is
// classified (JSON object with a usable id, or an error line), and each record turned into a
// job with the fixture tokenizer and the DeepSeek-V3 chat format: every field checked, the
// prompt tokenized or the messages rendered. A bad record must end in dsinfer::Error, and a job
// must fit its context.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "simd/error.h"
#include "tests/fuzz/fuzz_support.h"
#include "tools/batch/batch_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dsinfer;
  const Tokenizer& tok = fuzz::fixture_tokenizer();
  cli::BatchSettings s;
  s.context = 256;
  s.n_predict = 64;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  int64_t line_no = 0;
  for (size_t start = 0; start < input.size() && line_no < 64;) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    const cli::BatchLine bl = cli::read_batch_line(line, ++line_no);
    if (!bl.object) {
      if (bl.error.empty()) std::abort();
      continue;
    }
    try {
      const cli::BatchJob job = cli::parse_batch_record(*bl.object, line_no, s, tok, ChatFormat::DeepSeekV3);
      if (job.prompt.empty() || job.max_tokens < 1 || int64_t(job.prompt.size()) + job.max_tokens > s.context)
        std::abort();
      validate(job.params);
    } catch (const Error&) {
    }
  }
  return 0;
}
