#include "tools/spec_flags.h"

namespace dsinfer::cli {

void add_spec_flags(CLI::App* sub, SpecFlags& f) {
  sub->add_option("--spec", f.kind,
                  "Speculative decoding: mtp (the model's MTP module drafts, one main forward verifies; output "
                  "distributed exactly as without), auto (mtp while the tokens each verify commits pay for "
                  "the bytes it reads, paused otherwise; none without an MTP module) or none")
      ->capture_default_str();
  sub->add_option("--draft-max", f.draft_max,
                  "Tokens drafted per verify forward with --spec mtp or auto, 1 to " + std::to_string(kMaxDraft))
      ->capture_default_str();
  sub->add_option("--draft-vocab", f.draft_vocab,
                  "With --spec mtp or auto: drafts score only the first N token ids and the tokens the session has fed "
                  "(up to 4,096 more); the MTP head is most of a draft's bytes on a large vocabulary. Output stays "
                  "distributed exactly as without. 0: the whole vocabulary")
      ->capture_default_str();
}

SpecOptions spec_options(const SpecFlags& f) {
  SpecOptions o = parse_spec_kind(f.kind);
  o.draft_max = f.draft_max;
  o.draft_vocab = f.draft_vocab;
  validate(o);
  return o;
}

SpecOptions spec_options(const SpecFlags& f, const Model& m) {
  const SpecOptions o = for_model(spec_options(f), m);
  validate(o, m);
  return o;
}

}  // namespace dsinfer::cli
