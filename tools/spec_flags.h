// The speculative-decoding flags shared by run, chat, bench and batch: --spec, --draft-max and
// --draft-vocab.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "engine/generation/mtp_speculation.h"

namespace dsinfer::cli {

struct SpecFlags {
  std::string kind = "none";
  int draft_max = 1;
  int64_t draft_vocab = 0;
};

void add_spec_flags(CLI::App* sub, SpecFlags& f);
// Checked on their own (the kind's name, draft-max in range), then against the model (an MTP
// module for mtp).
SpecOptions spec_options(const SpecFlags& f);
SpecOptions spec_options(const SpecFlags& f, const Model& m);

}  // namespace dsinfer::cli
