// The speculative-decoding flags shared by run, chat and bench: --spec and --draft-max.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "engine/generation/mtp_speculation.h"

namespace dsinfer::cli {

struct SpecFlags {
  std::string kind = "none";
  int draft_max = 1;
};

void add_spec_flags(CLI::App* sub, SpecFlags& f);
// Checked against the model (an MTP module for mtp; draft-max in range).
SpecOptions spec_options(const SpecFlags& f, const Model& m);

}  // namespace dsinfer::cli
