#include "tools/quantize/recipe.h"

#include "simd/error.h"

namespace dsinfer::cli {

const char* role_name(TensorRole r) {
  switch (r) {
    case TensorRole::Embedding: return "token embedding";
    case TensorRole::Output: return "output head";
    case TensorRole::Norm: return "norms";
    case TensorRole::Router: return "router";
    case TensorRole::ExpertBias: return "expert bias";
    case TensorRole::RoutedExperts: return "routed experts";
    case TensorRole::Attention: return "attention";
    case TensorRole::DenseFfn: return "dense FFN";
    case TensorRole::SharedExperts: return "shared experts";
    case TensorRole::MtpProjection: return "MTP projection";
  }
  return "?";
}

DType QuantRecipe::choose(const std::string& name, TensorRole role, int64_t ne0) const {
  if (role == TensorRole::Norm || role == TensorRole::ExpertBias) return DType::F32;
  DType t = role == TensorRole::RoutedExperts ? DType::Q4_0 : DType::Q8_0;
  if (role == TensorRole::Router) t = DType::F32;  // small, and it decides which experts run
  else if (has_base) t = base;
  for (const Override& o : overrides)
    if (std::regex_search(name, o.re)) {
      t = o.type;
      break;
    }
  if (dtype_info(t).block_size > 1 && ne0 % dtype_info(t).block_size != 0) t = DType::F32;
  return t;
}

std::string QuantRecipe::describe() const {
  return describe_types() + (search_scales ? ", Q4_0 scales searched" : ", round-to-nearest scales");
}

std::string QuantRecipe::describe_types() const {
  std::string s = has_base ? "all matrices " + std::string(dtype_name(base))
                           : "routed experts Q4_0, other matrices Q8_0";
  s += ", router/norms/bias F32";
  for (const Override& o : overrides) s += ", /" + o.pattern + "/=" + std::string(dtype_name(o.type));
  return s;
}

DType parse_quant_type(const std::string& s, const std::string& option) {
  const auto t = dtype_from_name(s);
  if (!t || (*t != DType::F32 && *t != DType::F16 && *t != DType::BF16 && *t != DType::Q8_0 &&
             *t != DType::Q4_0))
    fail(option, "'" + s + "' is not a type dsinfer writes (f32, f16, bf16, q8_0, q4_0)");
  return *t;
}

QuantRecipe::Override parse_tensor_type(const std::string& s) {
  const size_t eq = s.rfind('=');
  if (eq == std::string::npos || eq == 0) fail("--tensor-type", "'" + s + "' is not REGEX=TYPE");
  QuantRecipe::Override o;
  o.pattern = s.substr(0, eq);
  try {
    o.re = std::regex(o.pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    fail("--tensor-type", "'" + o.pattern + "' is not a valid regular expression: " + e.what());
  }
  o.type = parse_quant_type(s.substr(eq + 1), "--tensor-type");
  return o;
}

}  // namespace dsinfer::cli
