#include "engine/tokenizer/token_stream.h"

namespace dsinfer {

std::string TokenStreamDecoder::push(int32_t id) {
  std::string out;
  const std::string_view bytes = t_.token_bytes(id);  // checks the id
  if (!(skip_special_ && t_.token_type(id) == TokenType::Control)) utf8_.push(bytes, out);
  return out;
}

std::string TokenStreamDecoder::finish() {
  std::string out;
  utf8_.finish(out);
  return out;
}

}  // namespace dsinfer
