#include <CLI/CLI.hpp>
#include <omp.h>

#include <iostream>

#include "simd/error.h"
#include "tools/commands.h"
#include "tools/number_flags.h"
#include "tools/thread_count.h"

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
  dsinfer::cli::check_number_flags(app);
  try {
    // OMP_NUM_THREADS=100000 would crash libgomp as -t 100000 would: the same bound for both.
    dsinfer::cli::set_threads(0, omp_get_max_threads(), "OMP_NUM_THREADS");
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line that names the program and the command, like every other message.
    std::string cmd = "dsinfer";
    for (const CLI::App* sub : app.get_subcommands()) cmd += " " + sub->get_name();
    std::cerr << cmd << ": usage error: " << dsinfer::one_line(e.what()) << " (" << cmd << " --help lists the options)\n";
    return 2;
  } catch (const dsinfer::Error& e) {
    std::cerr << "dsinfer: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "dsinfer: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dsinfer: error: " << dsinfer::one_line(e.what()) << "\n";
    return 1;
  }
  return 0;
}
