// A workload table of tests/data read as the commands read one (dnn::workload_from_json), named
// after its file in errors.
#pragma once

#include "edgeroof/dnn/workload.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace edgeroof::test {

inline dnn::Workload workload_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return dnn::workload_from_json(nlohmann::json::parse(text.str()), std::filesystem::path(path).filename().string());
}

}  // namespace edgeroof::test
