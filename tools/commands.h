// The dsinfer subcommands. Each adds itself to the CLI; its callback throws dsinfer::Error on failure.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer::cli {

void add_logits_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_batch_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_bench_command(CLI::App& app);

// The bundled demo model: $DSINFER_DEMO_MODEL, else the copy in the source tree's models/.
std::string bundled_model_path();

// "3,17,42" -> ids; throws Error naming the option on a malformed list.
std::vector<int32_t> parse_token_list(const std::string& s, const std::string& option);

}  // namespace dsinfer::cli
