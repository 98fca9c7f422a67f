// edgeroof-convergence [--board B] [--grid SPEC] [--budgets 11,22,44,88] [--next N] [--seed N]
//                      [--json FILE] [--no-aggregates]
// The convergence benchmark against the stand-in board (convergence.hpp): a table on stdout, the
// same as JSON in FILE (written atomically). Exit 0 done, 1 a failure of the model or planner, 2 usage.
#include "convergence.hpp"

#include "edgeroof/power/sysfs.hpp"

#include <iostream>
#include <sstream>
#include <stdexcept>

namespace {

using namespace edgeroof;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr const char* usage_text =
    "usage: edgeroof-convergence [--board orin-agx|orin-nx] [--grid SPEC] [--budgets 11,22,44,88] [--next 11]\n"
    "                            [--seed N] [--json FILE] [--no-aggregates]\n"
    "Measures the mode-space model and the planner against a stand-in board (simulated results, not\n"
    "measurements; tests/support/standin/README.md).\n";

std::size_t count(const std::string& flag, const std::string& text, std::int64_t hi) {
  const auto v = power::parse_int64(text);
  if (!v || *v < 1 || *v > hi)
    throw UsageError(flag + " '" + text + "' is not a whole number from 1 to " + std::to_string(hi));
  return static_cast<std::size_t>(*v);
}

struct Args {
  standin::ConvergenceOptions options;
  std::string json_path;
};

void set_flag(Args& a, const std::string& flag, const std::string& value) {
  auto& o = a.options;
  if (flag == "--board") {
    try {
      o.board = standin::board_by_name(value);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  } else if (flag == "--grid") {
    try {
      o.grid = power::parse_grid_spec(value);
    } catch (const power::ModeError& e) {
      throw UsageError(std::string("--grid: ") + e.what());
    }
  } else if (flag == "--budgets") {
    o.budgets.clear();
    std::stringstream list(value);
    for (std::string item; std::getline(list, item, ',');) o.budgets.push_back(count(flag, item, 1000000));
  } else if (flag == "--next") {
    o.next = count(flag, value, 1000000);
  } else if (flag == "--seed") {
    o.seed = static_cast<unsigned>(count(flag, value, 4294967295LL));
  } else if (flag == "--json") {
    a.json_path = value;
  } else {
    throw UsageError("unknown argument '" + flag + "'");
  }
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--no-aggregates") {
      a.options.noise.aggregates = false;
      continue;
    }
    if (i + 1 >= argc) throw UsageError(flag + " needs a value");
    set_flag(a, flag, argv[++i]);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
      std::cout << usage_text;
      return 0;
    }
    const Args a = parse(argc, argv);
    const auto report = standin::run_convergence(a.options);
    std::cout << standin::to_table(report);
    if (!a.json_path.empty()) power::atomic_write(a.json_path, standin::to_json(report).dump(2) + "\n");
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "edgeroof-convergence: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "edgeroof-convergence: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "edgeroof-convergence: " << e.what() << "\n";
    return 1;
  }
}
