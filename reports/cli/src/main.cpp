// edgeroof: the reporting command line (modes, sweep, plan, fit, model, predict, tune, plot, compare).
#include "cli.hpp"
#include "commands.hpp"
#include "edgeroof/config.hpp"
#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/reports/results.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace {

using edgeroof::cli::Command;

std::vector<const Command*> commands() {
  using namespace edgeroof::cli;
  // In the order of the workflow: list, plan and sweep modes, fit, model, predict and tune, plot, compare.
  return {&modes_command(),   &plan_command(), &sweep_command(), &fit_command(),     &model_command(),
          &predict_command(), &tune_command(), &plot_command(),  &compare_command(), &tegrastats_command()};
}

void print_overview() {
  std::string text =
      "usage: edgeroof COMMAND [options]\n\nTime and energy rooflines of DNN workloads across power "
      "modes.\n\ncommands:\n";
  for (const auto* c : commands()) {
    std::string left = "  " + c->name;
    left.resize(14, ' ');
    text += left + c->summary + "\n";
  }
  text += "\n'edgeroof COMMAND --help' describes a command. edgeroof-bench measures; these commands read its JSON.\n";
  std::fputs(text.c_str(), stdout);
}

// An error is one line, whatever text from a file or an argument it carries.
std::string one_line(const char* message) { return edgeroof::dnn::excerpt(message, 1000); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    print_overview();
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  if (name == "--version") {
    std::printf("edgeroof %s\n", EDGEROOF_VERSION);
    return 0;
  }
  const Command* cmd = nullptr;
  for (const auto* c : commands()) {
    if (c->name == name) cmd = c;
  }
  if (cmd == nullptr) {
    std::fprintf(stderr, "edgeroof: unknown command '%s' (see 'edgeroof --help')\n", edgeroof::cli::echo(name).c_str());
    return 2;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      std::fputs(edgeroof::cli::help_text(*cmd).c_str(), stdout);
      return 0;
    }
  }
  try {
    return cmd->run(edgeroof::cli::parse_args(cmd->options, args, cmd->passthrough));
  } catch (const edgeroof::cli::UsageError& e) {
    std::fprintf(stderr, "edgeroof %s: %s (see 'edgeroof %s --help')\n", name.c_str(), one_line(e.what()).c_str(),
                 name.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeroof %s: error: %s\n", name.c_str(), one_line(e.what()).c_str());
    return 1;
  }
}
