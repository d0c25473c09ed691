// Malformed GGUF files, assembled by hand: each must be refused on open with one line naming
// the file and the problem, before any tensor data is used. Also the typed getters' errors.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "simd/error.h"
#include "quant/gguf_reader.h"
#include "tests/quant/gguf/gguf_bytes.h"
#include "tests/test_support.h"

namespace dsinfer {
namespace {

using test::GgufBytes;

constexpr uint32_t kF32 = 0, kQ8_0 = 8;

// A valid file: general.alignment 32 and a string; tensors a (F32 [8], 32 bytes at offset 0)
// and b (Q8_0 [32, 2], 68 bytes at offset 32).
GgufBytes good() {
  GgufBytes b;
  b.header(2, 2).kv_u32("general.alignment", 32);
  b.str("general.name").u32(8).str("tiny");
  b.tensor("a", {8}, kF32, 0).tensor("b", {32, 2}, kQ8_0, 32);
  return b.pad(32).fill(32).fill(68);
}

// A file of no tensors and one metadata entry, encoded in `kv`.
GgufBytes with_kv(const std::string& kv) {
  GgufBytes b;
  b.header(0, 1);
  b.bytes += kv;
  return b;
}

// A file whose only tensor info is `tensor` (already encoded), padded, with `data` bytes.
GgufBytes with_tensor(const GgufBytes& tensor, size_t data = 256) {
  GgufBytes b;
  b.header(1, 0);
  b.bytes += tensor.bytes;
  return b.pad(32).fill(data);
}

std::string open_error(const std::string& bytes) {
  test::TempDir d;
  test::write_file(d.file("m.gguf"), bytes);
  try {
    GgufFile f(d.file("m.gguf"));
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("m.gguf"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return "";
}

#define EXPECT_HAS(msg, needle) EXPECT_NE((msg).find(needle), std::string::npos) << (msg)

TEST(GgufBadInput, GoodFileOpens) {
  test::TempDir d;
  test::write_file(d.file("m.gguf"), good().bytes);
  GgufFile f(d.file("m.gguf"));
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensor("b").nbytes, 68u);
  EXPECT_EQ(f.get_string("general.name"), "tiny");
}

TEST(GgufBadInput, TruncatedAtEveryByte) {
  const std::string full = good().bytes;
  for (size_t cut = 0; cut < full.size(); ++cut) {
    const std::string msg = open_error(full.substr(0, cut));
    const bool named = msg.find("truncated") != std::string::npos || msg.find("past the end") != std::string::npos ||
                       msg.find("more than a file of") != std::string::npos;
    EXPECT_TRUE(named) << "cut at " << cut << ": " << msg;
  }
}

TEST(GgufBadInput, TruncationMessages) {
  const std::string full = good().bytes;
  EXPECT_HAS(open_error(""), "truncated file: 0 bytes");
  EXPECT_HAS(open_error(full.substr(0, 6)), "truncated file: the version at byte 4");
  EXPECT_HAS(open_error(full.substr(0, full.size() - 1)),
             "tensor 'b' (Q8_0 [32, 2], 68 bytes at data offset 32) runs past the end");
}

TEST(GgufBadInput, BadMagic) {
  std::string b = good().bytes;
  b[3] = 'X';
  EXPECT_HAS(open_error(b), "not a GGUF file: magic 'GGUX'");
  b[0] = '\x7f';
  EXPECT_HAS(open_error(b), "magic '\\x7fGUX'");
}

TEST(GgufBadInput, UnsupportedVersions) {
  std::string b = good().bytes;
  b[4] = 1;
  EXPECT_HAS(open_error(b), "GGUF version 1 is not supported");
  b[4] = 4;
  EXPECT_HAS(open_error(b), "unsupported GGUF version 4");
  b[4] = 0;
  b[7] = 3;  // 3 written big-endian
  EXPECT_HAS(open_error(b), "big-endian");
}

TEST(GgufBadInput, TensorCountTooLargeForFile) {
  GgufBytes b;
  b.header(uint64_t(1) << 40, 0).fill(100);
  EXPECT_HAS(open_error(b.bytes), "header claims 1099511627776 tensors, more than a file of 124 bytes can describe");
  GgufBytes c;
  c.header(5, 0).fill(100);  // 5 tensor infos need at least 120 bytes
  EXPECT_HAS(open_error(c.bytes), "claims 5 tensors");
}

TEST(GgufBadInput, MetadataCountTooLargeForFile) {
  GgufBytes b;
  b.header(0, uint64_t(-1)).fill(64);
  EXPECT_HAS(open_error(b.bytes), "metadata entries, more than a file of");
}

TEST(GgufBadInput, StringLengthPastEnd) {
  GgufBytes kv;
  kv.u64(1000000).fill(20);
  EXPECT_HAS(open_error(with_kv(kv.bytes).bytes), "metadata key #0 has length 1000000, past the end of the file");
  GgufBytes sv;
  sv.str("general.name").u32(8).u64(uint64_t(1) << 62);
  EXPECT_HAS(open_error(with_kv(sv.bytes).bytes), "the string value of metadata key 'general.name' has length");
  GgufBytes tn;
  tn.u64(999).fill(40);
  EXPECT_HAS(open_error(with_tensor(tn).bytes), "the name of tensor #0 has length 999, past the end");
}

TEST(GgufBadInput, UnknownMetadataType) {
  GgufBytes kv;
  kv.str("x.y").u32(13).u32(0);
  EXPECT_HAS(open_error(with_kv(kv.bytes).bytes), "metadata key 'x.y' has unknown value type 13");
  GgufBytes arr;
  arr.str("x.arr").u32(9).u32(42).u64(1).u32(0);
  EXPECT_HAS(open_error(with_kv(arr.bytes).bytes), "metadata key 'x.arr' is an array of unknown value type 42");
}

TEST(GgufBadInput, ArrayLongerThanFile) {
  GgufBytes kv;
  kv.str("tokenizer.ggml.token_type").u32(9).u32(5).u64(1000000000).fill(16);
  EXPECT_HAS(open_error(with_kv(kv.bytes).bytes), "array of 1000000000 i32 runs past the end of the file");
  GgufBytes s;
  s.str("tokenizer.ggml.tokens").u32(9).u32(8).u64(3).str("a").str("b").fill(8);  // 3rd length: garbage
  EXPECT_HAS(open_error(with_kv(s.bytes).bytes), "string #2 of metadata key 'tokenizer.ggml.tokens'");
}

TEST(GgufBadInput, ArraysNestedTooDeep) {
  GgufBytes kv;
  kv.str("deep").u32(9);
  for (int i = 0; i < 20; ++i) kv.u32(9).u64(1);
  kv.u32(4).u64(0);
  EXPECT_HAS(open_error(with_kv(kv.bytes).bytes), "nested more than 16 deep");
}

TEST(GgufBadInput, DuplicateKey) {
  GgufBytes b;
  b.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
  EXPECT_HAS(open_error(b.bytes), "duplicate metadata key 'k'");
}

TEST(GgufBadInput, EmptyKey) {
  GgufBytes b;
  b.header(0, 1).kv_u32("", 1);
  EXPECT_HAS(open_error(b.bytes), "metadata key #0 at byte 24 is empty");
}

TEST(GgufBadInput, ControlCharactersStayOnOneLine) {
  GgufBytes kv;
  kv.str("evil\nkey").u32(77);
  EXPECT_HAS(open_error(with_kv(kv.bytes).bytes), "'evil\\x0akey' has unknown value type 77");
}

TEST(GgufBadInput, BadAlignment) {
  GgufBytes b;
  b.header(0, 1).kv_u32("general.alignment", 48);
  EXPECT_HAS(open_error(b.bytes), "general.alignment 48 is not a power of two");
  GgufBytes z;
  z.header(0, 1).kv_u32("general.alignment", 0);
  EXPECT_HAS(open_error(z.bytes), "general.alignment 0 is not a power of two");
  GgufBytes t;
  t.header(0, 1).str("general.alignment").u32(10).u64(4096);
  EXPECT_HAS(open_error(t.bytes), "'general.alignment' is u64 4096, must be u32");
}

TEST(GgufBadInput, UnknownTensorType) {
  GgufBytes t;
  t.tensor("w", {32}, 99, 0);
  EXPECT_HAS(open_error(with_tensor(t).bytes), "tensor 'w' has unknown ggml type 99");
  GgufBytes removed;  // 4 was Q4_2, removed from ggml
  removed.tensor("w", {32}, 4, 0);
  EXPECT_HAS(open_error(with_tensor(removed).bytes), "unknown ggml type 4");
  GgufBytes neg;
  neg.tensor("w", {32}, uint32_t(-1), 0);
  EXPECT_HAS(open_error(with_tensor(neg).bytes), "unknown ggml type -1");
}

TEST(GgufBadInput, TensorExtentOutOfRange) {
  GgufBytes t;
  t.tensor("w", {64}, kF32, 0);  // 256 bytes
  EXPECT_HAS(open_error(with_tensor(t, 255).bytes),
             "tensor 'w' (F32 [64], 256 bytes at data offset 0) runs past the end");
  GgufBytes far;
  far.tensor("w", {8}, kF32, uint64_t(1) << 63);
  EXPECT_HAS(open_error(with_tensor(far).bytes), "runs past the end of the file");
}

TEST(GgufBadInput, MisalignedOffset) {
  GgufBytes t;
  t.tensor("w", {8}, kF32, 16);
  EXPECT_HAS(open_error(with_tensor(t).bytes), "tensor 'w' has data offset 16, not a multiple of the alignment 32");
}

TEST(GgufBadInput, OverlappingTensors) {
  GgufBytes b;
  b.header(2, 0).tensor("a", {16}, kF32, 0).tensor("b", {8}, kF32, 32);  // a is [0, 64), b [32, 64)
  b.pad(32).fill(128);
  EXPECT_HAS(open_error(b.bytes), "tensors 'a' and 'b' overlap in the data section");
  GgufBytes same;
  same.header(2, 0).tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 0);
  same.pad(32).fill(64);
  EXPECT_HAS(open_error(same.bytes), "overlap");
}

TEST(GgufBadInput, BadShapes) {
  GgufBytes five;
  five.tensor("w", {1, 1, 1, 1, 1}, kF32, 0);
  EXPECT_HAS(open_error(with_tensor(five).bytes), "tensor 'w' has 5 dimensions, at most 4 allowed");
  GgufBytes neg;
  neg.tensor("w", {8, -2}, kF32, 0);
  EXPECT_HAS(open_error(with_tensor(neg).bytes), "tensor 'w' has a negative dimension -2");
  GgufBytes huge;
  huge.tensor("w", {int64_t(1) << 40, int64_t(1) << 40}, kF32, 0);
  EXPECT_HAS(open_error(with_tensor(huge).bytes), "implausible shape");
  GgufBytes block;
  block.tensor("w", {16, 2}, kQ8_0, 0);
  EXPECT_HAS(open_error(with_tensor(block).bytes),
             "tensor 'w' is Q8_0 with rows of 16 elements, not a multiple of its block size 32");
}

TEST(GgufBadInput, BadTensorNames) {
  GgufBytes b;
  b.header(2, 0).tensor("w", {8}, kF32, 0).tensor("w", {8}, kF32, 32).pad(32).fill(64);
  EXPECT_HAS(open_error(b.bytes), "duplicate tensor 'w'");
  GgufBytes e;
  e.tensor("", {8}, kF32, 0);
  EXPECT_HAS(open_error(with_tensor(e).bytes), "tensor #0 has an empty name");
  GgufBytes l;
  l.tensor(std::string(65, 'n'), {8}, kF32, 0);
  EXPECT_HAS(open_error(with_tensor(l).bytes), "has a name of 65 bytes, more than GGUF's 64");
}

// ---- typed getters ----

class GgufGetters : public ::testing::Test {
 protected:
  void SetUp() override {
    GgufBytes b;
    b.header(1, 4).kv_u32("n", 61);
    b.str("neg").u32(5).u32(uint32_t(-1));  // i32 -1
    b.str("s").u32(8).str("gpt2");
    b.str("ids").u32(9).u32(4).u64(2).u32(1).u32(2);
    b.tensor("w", {8}, kF32, 0).pad(32).fill(32);
    test::write_file(dir_.file("g.gguf"), b.bytes);
    f_ = std::make_unique<GgufFile>(dir_.file("g.gguf"));
  }
  std::string error_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("g.gguf"), std::string::npos) << msg;
      return msg;
    }
    ADD_FAILURE() << "no error";
    return "";
  }
  test::TempDir dir_;
  std::unique_ptr<GgufFile> f_;
};

TEST_F(GgufGetters, Values) {
  EXPECT_EQ(f_->get_u32("n"), 61u);
  EXPECT_EQ(f_->get_i32("neg"), -1);
  EXPECT_EQ(f_->get_string("s"), "gpt2");
  EXPECT_EQ(f_->get_ints("ids"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f_->get_u32("absent", 7), 7u);
  EXPECT_EQ(f_->get_f32("absent", 0.5f), 0.5f);
  EXPECT_FALSE(f_->has("absent"));
  EXPECT_EQ(f_->find_tensor("nope"), nullptr);
}

TEST_F(GgufGetters, Errors) {
  EXPECT_HAS(error_of([&] { f_->get_u32("deepseek2.block_count"); }),
             "metadata key 'deepseek2.block_count' is missing");
  EXPECT_HAS(error_of([&] { f_->get_u32("s"); }), "metadata key 's' is a string, expected u32");
  EXPECT_HAS(error_of([&] { f_->get_u32("neg"); }), "metadata key 'neg' is i32 -1, expected u32");
  EXPECT_HAS(error_of([&] { f_->get_u32("neg", 3); }), "expected u32");  // present: no fallback
  EXPECT_HAS(error_of([&] { f_->get_f32("n"); }), "is u32 61, expected f32");
  EXPECT_HAS(error_of([&] { f_->get_bool("n"); }), "expected a bool");
  EXPECT_HAS(error_of([&] { f_->get_strings("ids"); }), "is an array of u32, expected an array of strings");
  EXPECT_HAS(error_of([&] { f_->get_floats("ids"); }), "expected an array of f32");
  EXPECT_HAS(error_of([&] { f_->get_ints("n"); }), "is u32 61, expected an array of i64");
  EXPECT_HAS(error_of([&] { f_->tensor("blk.0.attn_q.weight"); }), "tensor 'blk.0.attn_q.weight' is missing");
}

}  // namespace
}  // namespace dsinfer
