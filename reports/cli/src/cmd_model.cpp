// edgeroof model: the analytic workload table of a zoo model or an .onnx file.
#include "commands.hpp"
#include "edgeroof/dnn/zoo.hpp"
#include "model_args.hpp"

#include <cstdio>
#include <iostream>

namespace edgeroof::cli {
namespace {

std::string shapes_text(const std::vector<dnn::Shape>& shapes) {
  std::string s;
  for (const auto& sh : shapes) s += (s.empty() ? "" : ",") + dnn::shape_text(sh);
  return s;
}

// Intensity with enough digits for a CSV reader; "-" for a layer that moves nothing.
std::string intensity(double flops, double bytes) {
  if (bytes <= 0.0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", flops / bytes);
  return buf;
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

std::string render(const dnn::Workload& w, Format format) {
  const bool csv = format == Format::csv;
  Table t({"name", "op", "phase", "inputs", "outputs", csv ? "flops" : "FLOP", csv ? "bytes" : "bytes", "FLOP/B"});
  for (const auto& l : w.layers) {
    t.add({l.name, l.op, l.phase, shapes_text(l.inputs), shapes_text(l.outputs),
           csv ? number(l.flops) : si(l.flops, ""), csv ? number(l.bytes) : si(l.bytes, "B"),
           intensity(l.flops, l.bytes)});
  }
  const std::string total_name = w.complete() ? "total" : "total (incomplete)";
  t.add({total_name, "", w.phase, "", "", csv ? number(w.total_flops()) : si(w.total_flops(), ""),
         csv ? number(w.total_bytes()) : si(w.total_bytes(), "B"), intensity(w.total_flops(), w.total_bytes())});
  std::string text = t.render(format);
  if (!csv) {
    char head[256];
    std::snprintf(head, sizeof(head), "%s, batch %lld, %s, %s: %zu layers (analytic counts, not measured)\n",
                  w.model.c_str(), static_cast<long long>(w.batch), w.dtype.c_str(), w.phase.c_str(), w.layers.size());
    text = head + text;
  }
  if (!w.complete()) {
    std::string ops;
    for (const auto& op : w.unsupported) ops += (ops.empty() ? "" : ", ") + op;
    // In CSV the note would break the table: it goes to standard error instead.
    const std::string note = "incomplete: ops that could not be counted (not included in the totals): " + ops + "\n";
    if (csv) {
      std::fputs(note.c_str(), stderr);
    } else {
      text += note;
    }
  }
  return text;
}

std::string zoo_list(Format format) {
  if (format == Format::json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& m : dnn::zoo()) j.push_back({{"name", m.name}, {"description", m.description}});
    return json_text(nlohmann::json{{"models", j}, {"onnx", dnn::onnx_available()}});
  }
  Table t({"model", "description"});
  for (const auto& m : dnn::zoo()) t.add({m.name, m.description});
  std::string text = t.render(format);
  if (format == Format::table) {
    text += dnn::onnx_available() ? "or an .onnx file\n"
                                  : "(.onnx files need a build with -DEDGEROOF_ENABLE_ONNX=ON and libonnx-dev)\n";
  }
  return text;
}

int run(const Args& args) {
  const Format format = format_of(args);
  if (args.has("--list")) {
    if (!args.positional.empty()) throw UsageError("--list takes no model");
    check_output(args, "--out");
    emit(args, zoo_list(format));
    return 0;
  }
  if (args.positional.size() != 1) throw UsageError("name one model (see --list) or one .onnx file");
  const auto options = model_options_of(args);
  check_output(args, "--out");
  const auto workload = dnn::build_workload(args.positional.front(), options);
  emit(args, format == Format::json ? json_text(dnn::to_json(workload)) : render(workload, format));
  return 0;
}

}  // namespace

const Command& model_command() {
  static const Command cmd = [] {
    Command c{
        "model",
        "FLOPs and DRAM bytes of every layer of a zoo model or an .onnx file (analytic)",
        "edgeroof model MODEL|FILE.onnx [--batch B] [--dtype fp32|fp16|bf16|int8] [--train sgd|sgd_momentum|adam]\n"
        "               [--seq N] [--unfused-attention] [--l2-bytes N] [--format table|csv|json] [-o FILE]\n"
        "edgeroof model --list",
        "Counts are analytic, from the layer shapes: 1 multiply-add = 2 FLOP (int8: integer ops); bytes\n"
        "are the DRAM traffic of each layer's inputs, weights and outputs, no reuse between layers.\n"
        "--train adds the training step: backward data and weights of every layer (in reverse order)\n"
        "and the optimizer update. An ONNX op that cannot be counted is listed and the total marked\n"
        "incomplete. The JSON form is the workload table that predict and tune read.",
        model_options(),
        false,
        run};
    c.options.insert(c.options.end(), {{"--list", "", "list the zoo's models"}, format_option, output_option});
    return c;
  }();
  return cmd;
}

}  // namespace edgeroof::cli
