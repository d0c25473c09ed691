// The bundled demo model (models/demo): the main job runs it, it is the trained model (its
// held-out perplexity and MTP accuracy are far from a random model's), and its expert bias is
// the trained one. Figures measured 2026-11-29 over the first 6 windows of 256 tokens of
// models/demo/heldout.txt: perplexity 44.96, MTP top-1 0.304; a random model of the same shape
// would sit near the vocabulary size (4096) and 1/4096.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "engine/model/model.h"
#include "quant/gguf_reader.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

std::string demo_model() { return std::string(DSINFER_SOURCE_DIR) + "/models/demo/dsinfer-demo-q8_0.gguf"; }

TEST(DemoModel, RunWithoutModelArgumentWritesText) {
  auto r = test::run_dsinfer("run -p 'And God said' -n 24");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(r.out.size(), 40u);
  EXPECT_EQ(r.out.find('['), std::string::npos) << "text, not ids: " << r.out;
  EXPECT_NE(r.err.find("dsinfer-demo-q8_0.gguf"), std::string::npos) << r.err;
}

TEST(DemoModel, HeldOutPerplexityAndMtpAccuracy) {
  auto r = test::run_dsinfer("perplexity " + demo_model() + " -f " + std::string(DSINFER_SOURCE_DIR) +
                             "/models/demo/heldout.txt --max-windows 6");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double ppl = std::atof(r.out.substr(r.out.find("perplexity") + 10).c_str());
  const double mtp = std::atof(r.out.substr(r.out.find("MTP top-1") + 9).c_str());
  EXPECT_GT(ppl, 30.0);
  EXPECT_LT(ppl, 55.0);
  EXPECT_GT(mtp, 0.25);
}

TEST(DemoModel, CarriesTheTrainedExpertBias) {
  GgufFile f(demo_model());
  const GgufTensor& b = f.tensor("blk.1.exp_probs_b.bias");
  ASSERT_EQ(b.type, DType::F32);
  const float* v = reinterpret_cast<const float*>(b.data);
  float mx = 0;
  for (int64_t i = 0; i < b.ne[0]; ++i) mx = std::max(mx, std::fabs(v[i]));
  EXPECT_GT(mx, 0.05f);  // trained biases span -0.09..0.40; an untrained one is zero
  EXPECT_LT(f.file_size(), 20u << 20);  // what git may hold
}

}  // namespace
}  // namespace dsinfer
