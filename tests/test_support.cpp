#include "tests/test_support.h"

#include "quant/npy.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace dsinfer::test {

namespace fs = std::filesystem;

std::string fixtures_dir() {
  const char* d = std::getenv("DSINFER_FIXTURES");
  std::string dir = d && *d ? d : DSINFER_FIXTURES_DEFAULT;
  if (dir.empty() || !fs::is_directory(dir)) {
    ADD_FAILURE() << "fixtures not found (DSINFER_FIXTURES='" << dir << "'); expected ../shared/fixtures";
    throw std::runtime_error("no fixtures");
  }
  return dir;
}

std::string fixture(const std::string& rel) { return fixtures_dir() + "/" + rel; }

std::string dsinfer_bin() {
  const char* b = std::getenv("DSINFER_BIN");
  return b && *b ? b : DSINFER_BIN_DEFAULT;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "dsinfer-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void copy_dir(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    const fs::path dst = fs::path(to) / e.path().filename();
    fs::copy_file(e.path(), dst, fs::copy_options::overwrite_existing);
    fs::permissions(dst, fs::perms::owner_read | fs::perms::owner_write);
  }
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o.write(bytes.data(), std::streamsize(bytes.size()));
  if (!o) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

CommandResult run_dsinfer(const std::string& args) { return run_dsinfer_with_input(args, ""); }

namespace {

CommandResult run_command(const std::string& prefix, const std::string& args, const std::string& input) {
  TempDir t;
  write_file(t.file("in"), input);
  const std::string cmd =
      prefix + dsinfer_bin() + " " + args + " >" + t.file("out") + " 2>" + t.file("err") + " <" + t.file("in");
  const int st = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  r.out = read_file(t.file("out"));
  r.err = read_file(t.file("err"));
  return r;
}

}  // namespace

CommandResult run_dsinfer_with_input(const std::string& args, const std::string& input) {
  return run_command("", args, input);
}

CommandResult run_dsinfer_within(const std::string& args, int seconds) {
  return run_command("timeout -k 5 " + std::to_string(seconds) + " ", args, "");
}

}  // namespace dsinfer::test

namespace dsinfer::test {

Agreement agreement(const std::vector<float>& ref, const std::vector<float>& got, int64_t V) {
  Agreement a;
  const int64_t P = int64_t(ref.size()) / V;
  if (P == 0 || got.size() != ref.size()) {
    ADD_FAILURE() << "agreement: " << ref.size() << " reference logits vs " << got.size();
    return a;
  }
  for (int64_t p = 0; p < P; ++p) {
    const float* r = ref.data() + p * V;
    const float* g = got.data() + p * V;
    double mr = r[0], mg = g[0];
    int64_t ar = 0, ag = 0;
    for (int64_t i = 1; i < V; ++i) {
      if (r[i] > mr) mr = r[i], ar = i;
      if (g[i] > mg) mg = g[i], ag = i;
    }
    double zr = 0, zg = 0;
    for (int64_t i = 0; i < V; ++i) zr += std::exp(r[i] - mr), zg += std::exp(g[i] - mg);
    double kl = 0;
    for (int64_t i = 0; i < V; ++i) {
      const double lr = r[i] - mr - std::log(zr), lg = g[i] - mg - std::log(zg);
      kl += std::exp(lr) * (lr - lg);
    }
    a.kl_mean += kl / double(P);
    a.kl_max = std::max(a.kl_max, kl);
    a.top1 += (ar == ag) ? 1.0 / double(P) : 0.0;
  }
  return a;
}

std::vector<int32_t> golden_ids(const std::string& fx, const char* file) {
  std::vector<int32_t> v;
  for (int64_t x : read_npy(fixture("golden/" + fx + "/" + file)).ints) v.push_back(int32_t(x));
  return v;
}

std::vector<int32_t> golden_sequence(const std::string& fx) {
  std::vector<int32_t> s = golden_ids(fx, "prompt_ids.npy");
  const std::vector<int32_t> g = golden_ids(fx, "generated_ids.npy");
  s.insert(s.end(), g.begin(), g.end());
  return s;
}

float max_abs(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

void quantize_fixture(const std::string& fx, const std::string& out, const std::string& args) {
  const CommandResult r = run_dsinfer("quantize " + fixture(fx) + " -o " + out + " --quiet " + args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace dsinfer::test
