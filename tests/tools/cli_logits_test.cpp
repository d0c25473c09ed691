// `dsinfer logits` end to end, through the binary, against the reference goldens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "quant/npy.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

std::string prompt_arg(const std::string& fx) {
  std::string s;
  for (int64_t v : read_npy(test::fixture("golden/" + fx + "/prompt_ids.npy")).ints) s += (s.empty() ? "" : ",") + std::to_string(v);
  return s;
}

TEST(CliLogits, DecodeRouterAndMtpMatchGoldens) {
  const std::string fx = "tiny-v3-fp8", g = test::fixture("golden/" + fx + "/");
  test::TempDir d;
  auto r = test::run_dsinfer("logits " + test::fixture(fx) + " --tokens " + prompt_arg(fx) +
                             " --decode 16 --attn naive --out " + d.file("l.npy") + " --router-out " +
                             d.file("r.json") + " --mtp-out " + d.file("m.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  std::vector<int32_t> want;
  for (int64_t v : read_npy(g + "generated_ids.npy").ints) want.push_back(int32_t(v));
  EXPECT_EQ(out["decoded"].get<std::vector<int32_t>>(), want);

  NpyArray l = read_npy(d.file("l.npy"));
  ASSERT_EQ(l.shape, (std::vector<int64_t>{40, 512}));
  std::vector<float> ref = read_npy(g + "logits_prefill_naive.npy").f32;
  const std::vector<float> dec = read_npy(g + "decode_logits_naive.npy").f32;
  ref.insert(ref.end(), dec.begin(), dec.end());
  EXPECT_LE(test::max_abs(l.f32, ref), 1e-3f);

  EXPECT_LE(test::max_abs(read_npy(d.file("m.npy")).f32, read_npy(g + "mtp_logits_prompt_naive.npy").f32), 1e-3f);

  const auto rj = nlohmann::json::parse(test::read_file(d.file("r.json")));
  ASSERT_EQ(rj["layers"].size(), 2u);
  const NpyArray pi = read_npy(g + "router_prefill_indices_naive.npy");
  const NpyArray di = read_npy(g + "router_decode_indices_naive.npy");
  for (size_t li = 0; li < 2; ++li) {
    const auto& experts = rj["layers"][li]["experts"];
    ASSERT_EQ(experts.size(), 40u);
    for (size_t t = 0; t < 40; ++t) {
      const auto e = experts[t].get<std::vector<int32_t>>();
      std::set<int64_t> got(e.begin(), e.end()), exp;
      for (size_t k = 0; k < 4; ++k)
        exp.insert(t < 24 ? pi.ints[(li * 24 + t) * 4 + k] : di.ints[(li * 16 + (t - 24)) * 4 + k]);
      EXPECT_EQ(got, exp) << "layer " << li << " position " << t;
    }
  }
  EXPECT_EQ(rj["mtp"]["experts"].size(), 23u);
}

TEST(CliLogits, ThreadCountDoesNotChangeOutput) {
  const std::string fx = "tiny-v2lite-bf16";
  test::TempDir d;
  auto a = test::run_dsinfer("logits -t 1 " + test::fixture(fx) + " --tokens " + prompt_arg(fx) + " --decode 4 --out " + d.file("a.npy"));
  auto b = test::run_dsinfer("logits -t 2 " + test::fixture(fx) + " --tokens " + prompt_arg(fx) + " --decode 4 --out " + d.file("b.npy"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(test::read_file(d.file("a.npy")), test::read_file(d.file("b.npy")));  // bit-identical
}

TEST(CliRun, GreedyIdsOnFixture) {
  auto r = test::run_dsinfer("run " + test::fixture("tiny-v3-fp8") + " --tokens " + prompt_arg("tiny-v3-fp8") + " -n 3 --temp 0 --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).get<std::vector<int32_t>>(), (std::vector<int32_t>{511, 385, 371}));
  EXPECT_TRUE(r.err.empty());
}

}  // namespace
}  // namespace dsinfer
