// Every numeric flag of every command is checked before the value is converted: CLI11 (2.1)
// turns an integer that does not fit into the largest one without a word (--seed
// 99999999999999999999999 became 2^63 - 1), reads "010" as octal, and takes "nan" and "inf"
// as floats. Integers must be decimal whole numbers that fit 64 bits (unsigned ones: not
// negative), floats finite decimal numbers; otherwise a usage error naming the flag. The
// ranges that depend on meaning (at least 1, within the context) are each command's checks.
#pragma once
#include <CLI/CLI.hpp>

namespace dsinfer::cli {

// Adds the checks to every integer and float option of `app`'s subcommands.
void check_number_flags(CLI::App& app);

}  // namespace dsinfer::cli
