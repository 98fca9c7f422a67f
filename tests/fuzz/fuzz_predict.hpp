// The predict and tune steps of the fuzz bodies that load what predict and tune read (rooflines,
// workload tables): a loaded file must cost, predict and tune to numbers, or be refused.
#pragma once

#include "edgeroof/dnn/workload.hpp"
#include "edgeroof/reports/fit.hpp"

#include <string>

namespace edgeroof::fuzz {

// Costs the workload in every mode (as tune does), predicts it layer by layer in the modes that
// could be costed (as predict does), tunes for the least energy within 5% of the fastest and
// writes the chosen mode's nvpmodel.conf stanza; aborts on a NaN or negative latency or energy,
// on the two paths disagreeing, or on a stanza line that is not a setting. InputError (a mode
// without the ceilings, no energy) is the documented refusal.
void predict_and_tune(const dnn::Workload& workload, const reports::Rooflines& rooflines, const std::string& backend);

}  // namespace edgeroof::fuzz
