// reports/ reads results through the results contract (bench/results, edgeroof::results); these
// are the names of it that reports/ and its callers use unqualified. New code includes
// edgeroof/results/reader.hpp and names.hpp directly.
#pragma once

#include "edgeroof/results/names.hpp"
#include "edgeroof/results/reader.hpp"

namespace edgeroof::reports {

using results::BenchmarkRecord;
using results::excerpt;
using results::InputError;
using results::load_results;
using results::median;
using results::non_finite_to_null;
using results::parse_results;
using results::read_text_file;
using results::repetitions_by_name;
using results::ResultsFile;

}  // namespace edgeroof::reports
