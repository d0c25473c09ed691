#include <CLI/CLI.hpp>
#include <iostream>

#include "simd/error.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"dsinfer: CPU inference for the DeepSeek-V3 family of mixture-of-experts models"};
  app.require_subcommand(1);
  dsinfer::cli::add_logits_command(app);
  dsinfer::cli::add_run_command(app);
  dsinfer::cli::add_chat_command(app);
  dsinfer::cli::add_batch_command(app);
  dsinfer::cli::add_tokenize_command(app);
  dsinfer::cli::add_quantize_command(app);
  dsinfer::cli::add_inspect_command(app);
  dsinfer::cli::add_synth_command(app);
  dsinfer::cli::add_perplexity_command(app);
  dsinfer::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const dsinfer::Error& e) {
    std::cerr << "dsinfer: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "dsinfer: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dsinfer: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
