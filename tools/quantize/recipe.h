// Which GGUF type each tensor is written in.
#pragma once
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "quant/dtype.h"

namespace dsinfer::cli {

enum class TensorRole { Embedding, Output, Norm, Router, ExpertBias, RoutedExperts, Attention, DenseFfn, SharedExperts, MtpProjection };
const char* role_name(TensorRole r);

// Default: routed experts Q4_0, every other matrix Q8_0, norms, router and expert bias F32.
// --type sets every matrix; --tensor-type REGEX=TYPE overrides by GGUF name (first match wins).
// A matrix whose rows are not whole 32-weight blocks stays F32.
struct QuantRecipe {
  bool has_base = false;
  DType base = DType::Q8_0;
  struct Override {
    std::string pattern;
    std::regex re;
    DType type;
  };
  std::vector<Override> overrides;
  bool search_scales = true;  // Q4_0: least-squares block scales instead of round-to-nearest

  DType choose(const std::string& gguf_name, TensorRole role, int64_t ne0) const;
  std::string describe() const;        // types and how Q4_0 scales are chosen
  std::string describe_types() const;  // types only
};

// "q4_0" -> Q4_0 for the types we write (f32, f16, bf16, q8_0, q4_0); throws Error otherwise.
DType parse_quant_type(const std::string& s, const std::string& option);
// "REGEX=TYPE"; throws Error naming the option on a bad regex or type.
QuantRecipe::Override parse_tensor_type(const std::string& s);

}  // namespace dsinfer::cli
