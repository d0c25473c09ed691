// Shared helpers of the test suites: fixture paths, scratch directories, running the CLI.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer::test {

// ../shared/fixtures (from DSINFER_FIXTURES); fails the test loudly when absent.
std::string fixtures_dir();
std::string fixture(const std::string& rel);  // fixtures_dir() + "/" + rel
// The dsinfer binary under test (from DSINFER_BIN).
std::string dsinfer_bin();

// A fresh directory removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Copies a fixture checkpoint directory so a test can damage it.
void copy_dir(const std::string& from, const std::string& to);
void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Token ids of a golden file of a fixture, e.g. golden_ids("tiny-v3-fp8", "prompt_ids.npy").
std::vector<int32_t> golden_ids(const std::string& fx, const char* file);
// The goldens' prompt followed by their generated ids: prefill and continuation in one sequence.
std::vector<int32_t> golden_sequence(const std::string& fx);
// Largest |a[i] - b[i]|; a size mismatch is a test failure.
float max_abs(const std::vector<float>& a, const std::vector<float>& b);
// `dsinfer quantize FIXTURE -o out --quiet ARGS`; a failed run fails the test.
void quantize_fixture(const std::string& fx, const std::string& out, const std::string& args);

// How close a model's logits come to a reference's, over P positions of V logits each:
// KL(reference || model) per position in float64 (mean and max), and the share of positions
// whose argmax agrees.
struct Agreement {
  double kl_mean = 0, kl_max = 0, top1 = 0;
};
Agreement agreement(const std::vector<float>& ref, const std::vector<float>& got, int64_t V);

// Runs the dsinfer binary with `args` (already shell-quoted where needed).
CommandResult run_dsinfer(const std::string& args);
// The same with `input` on stdin (a file, so not a terminal).
CommandResult run_dsinfer_with_input(const std::string& args, const std::string& input);
// run_dsinfer for at most `seconds`: a run still going then is killed and gets exit code 124
// (coreutils' timeout), so a test of something that used to hang fails instead of hanging.
CommandResult run_dsinfer_within(const std::string& args, int seconds);

}  // namespace dsinfer::test
