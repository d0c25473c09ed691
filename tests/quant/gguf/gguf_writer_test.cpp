// GgufWriter misuse: each mistake is one Error line naming the file, and no output file (nor
// its temporary) is left behind when finish() is not reached.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "simd/error.h"
#include "quant/gguf_writer.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

// Runs `steps` on a writer for <dir>/out.gguf, expects an Error containing `needle`, and checks
// the directory is empty afterwards (the writer destroyed without finish()).
void expect_writer_error(const std::function<void(GgufWriter&)>& steps, const std::string& needle,
                         uint32_t alignment = 32) {
  test::TempDir dir;
  try {
    GgufWriter w(dir.file("out.gguf"), alignment);
    steps(w);
    ADD_FAILURE() << "no error, expected: " << needle;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  EXPECT_TRUE(fs::is_empty(dir.path())) << "left a file behind";
}

std::vector<char> zeros(size_t n) { return std::vector<char>(n, 0); }

TEST(GgufWriter, AlignmentMustBePowerOfTwo) {
  expect_writer_error([](GgufWriter&) {}, "not a power of two", 48);
  expect_writer_error([](GgufWriter&) {}, "not a power of two", 0);
}

TEST(GgufWriter, DuplicateKey) {
  expect_writer_error([](GgufWriter& w) {
    w.set_u32("deepseek2.block_count", 61);
    w.set_u32("deepseek2.block_count", 61);
  }, "set twice");
}

TEST(GgufWriter, AlignmentKeyIsTheWriters) {
  expect_writer_error([](GgufWriter& w) { w.set_u32("general.alignment", 64); }, "alignment argument");
}

TEST(GgufWriter, EmptyKey) {
  expect_writer_error([](GgufWriter& w) { w.set_bool("", true); }, "empty metadata key");
}

TEST(GgufWriter, TensorNameTooLongForLlamaCpp) {
  expect_writer_error([](GgufWriter& w) { w.add_tensor(std::string(64, 'x'), DType::F32, {4}); },
                      "at most 63");
}

TEST(GgufWriter, DuplicateTensor) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::F32, {4});
    w.add_tensor("a", DType::F32, {4});
  }, "declared twice");
}

TEST(GgufWriter, RowNotMultipleOfBlock) {
  expect_writer_error([](GgufWriter& w) { w.add_tensor("a", DType::Q4_0, {48, 2}); },
                      "not a multiple of the Q4_0 block size 32");
}

TEST(GgufWriter, BadShapes) {
  expect_writer_error([](GgufWriter& w) { w.add_tensor("a", DType::F32, {}); }, "0 dimensions");
  expect_writer_error([](GgufWriter& w) { w.add_tensor("a", DType::F32, {1, 1, 1, 1, 1}); }, "5 dimensions");
  expect_writer_error([](GgufWriter& w) { w.add_tensor("a", DType::F32, {4, -1}); }, "negative dimension");
  expect_writer_error([](GgufWriter& w) { w.add_tensor("a", DType::F8_E4M3, {4}); }, "type F8_E4M3 has no GGUF id");
}

TEST(GgufWriter, MetadataAfterHeader) {
  expect_writer_error([](GgufWriter& w) {
    w.write_header();
    w.set_u32("late", 1);
  }, "after the header was written");
  expect_writer_error([](GgufWriter& w) {
    w.write_header();
    w.add_tensor("late", DType::F32, {1});
  }, "after the header was written");
}

TEST(GgufWriter, OutOfOrder) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::F32, {4});
    w.add_tensor("b", DType::F32, {4});
    auto z = zeros(16);
    w.write_tensor_data("b", z.data(), z.size());
  }, "out of order: the next declared is 'a'");
}

TEST(GgufWriter, UndeclaredTensor) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::F32, {4});
    auto z = zeros(16);
    w.write_tensor_data("c", z.data(), z.size());
  }, "'c' was not declared");
}

TEST(GgufWriter, TooManyBytes) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::Q8_0, {32, 2});  // 68 bytes
    auto z = zeros(40);
    w.begin_tensor("a");
    w.append(z.data(), z.size());
    w.append(z.data(), z.size());
  }, "more than its 68");
}

TEST(GgufWriter, TooFewBytes) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::Q8_0, {32, 2});
    auto z = zeros(40);
    w.write_tensor_data("a", z.data(), z.size());
  }, "got 40 of its 68 bytes");
}

TEST(GgufWriter, MissingTensorAtFinish) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::F32, {4});
    w.add_tensor("b", DType::F32, {4});
    w.add_tensor("c", DType::F32, {4});
    auto z = zeros(16);
    w.write_tensor_data("a", z.data(), z.size());
    w.finish();
  }, "tensor 'b' and 1 more were declared but never written");
}

TEST(GgufWriter, FinishInsideTensor) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::F32, {4});
    w.begin_tensor("a");
    w.finish();
  }, "finish() inside tensor 'a'");
}

TEST(GgufWriter, AppendOutsideTensor) {
  expect_writer_error([](GgufWriter& w) {
    w.add_tensor("a", DType::F32, {4});
    auto z = zeros(16);
    w.append(z.data(), z.size());
  }, "outside begin_tensor");
}

TEST(GgufWriter, AbandonedWriterLeavesNoFile) {
  test::TempDir dir;
  {
    GgufWriter w(dir.file("out.gguf"), 4096);
    w.add_tensor("a", DType::F32, {1024});
    auto z = zeros(4096);
    w.begin_tensor("a");
    w.append(z.data(), 100);
    EXPECT_TRUE(fs::exists(w.path() + ".tmp." + std::to_string(::getpid())));
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(GgufWriter, FinishReplacesAnExistingFile) {
  test::TempDir dir;
  test::write_file(dir.file("out.gguf"), "old");
  GgufWriter w(dir.file("out.gguf"));
  EXPECT_EQ(test::read_file(dir.file("out.gguf")), "old");  // untouched until finish()
  w.finish();
  EXPECT_EQ(test::read_file(dir.file("out.gguf")).substr(0, 4), "GGUF");
}

}  // namespace
}  // namespace dsinfer
