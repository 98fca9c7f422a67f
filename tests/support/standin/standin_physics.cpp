// The stand-in's physics (README.md in this folder): two board presets and the figures of a mode.
#include "standin.hpp"

#include "edgeroof/power/mode_select.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bitset>
#include <cmath>
#include <stdexcept>

namespace edgeroof::standin {

double interpolate(const Knots& knots, double x) {
  if (knots.empty()) throw std::invalid_argument("interpolate: empty table");
  if (x <= knots.front().first) return knots.front().second;
  if (x >= knots.back().first) return knots.back().second;
  const auto hi = std::upper_bound(knots.begin(), knots.end(), x,
                                   [](double v, const std::pair<double, double>& k) { return v < k.first; });
  const auto lo = std::prev(hi);
  const double t = (x - lo->first) / (hi->first - lo->first);
  return lo->second + t * (hi->second - lo->second);
}

StandinBoard orin_agx() {
  StandinBoard b;
  b.name = "orin-agx";
  b.device_name = "Orin (stand-in, AGX-like)";
  b.cpu_count = 12;
  b.tpcs = 8;
  b.cpu_khz = {268800,  422400,  576000,  729600,  883200,  1036800, 1190400,
               1344000, 1497600, 1651200, 1804800, 1958400, 2112000, 2201600};
  b.gpu_hz = {114750000, 216750000, 318750000,  420750000,  522750000,  624750000, 726750000,
              828750000, 930750000, 1032750000, 1134750000, 1236750000, 1300500000};
  b.emc_hz = {204000000, 665600000, 2133000000, 3199000000};
  b.gpu_volts = {{114.75e6, 0.590},  {624.75e6, 0.590},  {726.75e6, 0.610},  {828.75e6, 0.640}, {930.75e6, 0.675},
                 {1032.75e6, 0.715}, {1134.75e6, 0.760}, {1236.75e6, 0.810}, {1300.5e6, 0.845}};
  b.cpu_volts = {{268800, 0.620}, {1113600, 0.620}, {1497600, 0.700}, {1804800, 0.790}, {2201600, 0.930}};
  b.emc_volts = {{204e6, 0.600}, {665.6e6, 0.650}, {2133e6, 0.800}, {3199e6, 0.900}};
  b.emc_efficiency = {{204e6, 0.58}, {665.6e6, 0.68}, {2133e6, 0.78}, {3199e6, 0.755}};
  return b;
}

StandinBoard orin_nx() {
  StandinBoard b = orin_agx();
  b.name = "orin-nx";
  b.device_name = "Orin (stand-in, NX-like)";
  b.cpu_count = 8;
  b.tpcs = 4;
  b.cpu_khz = {422400, 576000, 729600, 883200, 1036800, 1190400, 1344000, 1497600, 1651200, 1804800, 1984000};
  b.gpu_hz = {306000000, 408000000, 510000000, 612000000, 714000000, 816000000, 918000000};
  b.emc_hz = {204000000, 665600000, 2133000000, 3199000000};
  b.gpu_volts = {{306e6, 0.610}, {510e6, 0.610}, {612e6, 0.650}, {714e6, 0.700}, {816e6, 0.760}, {918e6, 0.830}};
  b.cpu_volts = {{422400, 0.640}, {1190400, 0.640}, {1497600, 0.720}, {1984000, 0.900}};
  b.emc_volts = {{204e6, 0.610}, {665.6e6, 0.640}, {2133e6, 0.780}, {3199e6, 0.880}};
  b.emc_efficiency = {{204e6, 0.55}, {665.6e6, 0.71}, {2133e6, 0.80}, {3199e6, 0.74}};
  b.l2_bytes = 2 << 20;
  b.l2_bytes_per_cycle = 256;
  b.dram_pull_bytes_per_cycle = 120;
  b.dram_peak_bytes_per_s = 102.4e9;  // 128-bit LPDDR5
  b.bandwidth_sharpness = 2.6;
  b.time_sharpness = 3.5;
  b.tensor_half_n = 700;
  b.gpu_flop_pj_per_v2 = 7.0;
  b.dram_byte_pj_core = 44.0;
  b.dram_byte_pj_ctrl = 30.0;
  b.board_W = 2.9;
  b.cpu_leak_W = 0.04;
  b.cpu_leak_slope_V = 0.14;
  b.gpu_leak_W_per_tpc = 0.12;
  b.gpu_leak_slope_V = 0.12;
  b.emc_clock_W = 0.9;
  b.gpu_clock_tree_W = 0.5;
  return b;
}

StandinBoard board_by_name(const std::string& name) {
  if (name == "orin-agx") return orin_agx();
  if (name == "orin-nx") return orin_nx();
  throw std::invalid_argument("unknown stand-in board '" + name + "' (orin-agx or orin-nx)");
}

namespace {

std::int64_t in_range(const std::string& mode, const char* knob, const std::optional<std::int64_t>& v, std::int64_t lo,
                      std::int64_t hi) {
  if (!v) throw std::invalid_argument("mode " + mode + ": " + knob + " is not set");
  if (*v < lo || *v > hi) {
    throw std::invalid_argument("mode " + mode + ": " + knob + " = " + std::to_string(*v) + " is outside " +
                                std::to_string(lo) + ".." + std::to_string(hi));
  }
  return *v;
}

int tpcs_on(const StandinBoard& b, std::int64_t mask) {
  const std::uint64_t all = (std::uint64_t(1) << b.tpcs) - 1;
  return static_cast<int>(std::bitset<64>(~static_cast<std::uint64_t>(mask) & all).count());
}

// (a^-k + b^-k)^(-1/k): the smaller side, softened where the two are close.
double smooth_min(double a, double b, double k) { return std::pow(std::pow(a, -k) + std::pow(b, -k), -1.0 / k); }

// Leakage of a rail: exponential in its voltage (subthreshold), times the voltage.
double leakage(double at_ref_W, double volts, double ref_V, double slope_V) {
  return at_ref_W * (volts / ref_V) * std::exp((volts - ref_V) / slope_V);
}

}  // namespace

Knobs knobs_of(const StandinBoard& b, const power::PowerMode& m) {
  Knobs k;
  const auto cores = m.cpu_online ? std::optional<std::int64_t>(*m.cpu_online) : std::nullopt;
  k.cpu_online = static_cast<int>(in_range(m.key, "cpu_online", cores, 1, b.cpu_count));
  k.cpu_khz = in_range(m.key, "cpu_khz", m.cpu_max_khz, b.cpu_khz.front(), b.cpu_khz.back());
  k.gpu_hz = in_range(m.key, "gpu_hz", m.gpu_max_hz, b.gpu_hz.front(), b.gpu_hz.back());
  k.emc_hz = in_range(m.key, "emc_hz", m.emc_max_hz, b.emc_hz.front(), b.emc_hz.back());
  k.tpc_pg_mask = m.tpc_pg_mask.value_or(0);
  if (k.tpc_pg_mask < 0 || tpcs_on(b, k.tpc_pg_mask) == 0) {
    throw std::invalid_argument("mode " + m.key + ": tpc_pg_mask = " + std::to_string(k.tpc_pg_mask) +
                                " leaves no TPC on");
  }
  return k;
}

namespace {

struct Rails {
  double vg, vg_rel, vc, vc_rel, ve_rel;  // volts, and over the top of the table
  double fg, fg_rel, fc, fc_rel, fe, fe_rel;
  double units, unit_share;
};

Rails rails_of(const StandinBoard& b, const Knobs& k) {
  Rails r{};
  r.fg = static_cast<double>(k.gpu_hz);
  r.fc = static_cast<double>(k.cpu_khz) * 1e3;
  r.fe = static_cast<double>(k.emc_hz);
  r.fg_rel = r.fg / static_cast<double>(b.gpu_hz.back());
  r.fc_rel = r.fc / (static_cast<double>(b.cpu_khz.back()) * 1e3);
  r.fe_rel = r.fe / static_cast<double>(b.emc_hz.back());
  r.vg = interpolate(b.gpu_volts, r.fg);
  r.vg_rel = r.vg / b.gpu_volts.back().second;
  r.vc = interpolate(b.cpu_volts, static_cast<double>(k.cpu_khz));
  r.vc_rel = r.vc / b.cpu_volts.back().second;
  r.ve_rel = interpolate(b.emc_volts, r.fe) / b.emc_volts.back().second;
  r.units = tpcs_on(b, k.tpc_pg_mask);
  r.unit_share = r.units / b.tpcs;
  return r;
}

void set_rates(const StandinBoard& b, const Knobs& k, const Rails& r, Figures& f) {
  const double cores = k.cpu_online;
  f.fp32_flops_per_s = b.fp32_lanes_per_tpc * r.units * 2.0 * r.fg * b.compute_efficiency;
  f.fp16_flops_per_s = 2.0 * f.fp32_flops_per_s * 0.98;
  f.tensor_flops_per_s = b.tensor_flops_per_cycle_tpc * r.units * r.fg * b.tensor_efficiency;
  f.l2_bytes_per_s = b.l2_bytes_per_cycle * r.fg * b.l2_efficiency * std::sqrt(r.unit_share);
  const double memory_side = b.dram_peak_bytes_per_s * r.fe_rel * interpolate(b.emc_efficiency, r.fe);
  const double gpu_side = b.dram_pull_bytes_per_cycle * r.fg * std::pow(r.unit_share, 0.7);
  f.dram_bytes_per_s = smooth_min(memory_side, gpu_side, b.bandwidth_sharpness);
  f.cpu_flops_per_s = cores * r.fc * b.cpu_flops_per_cycle * b.cpu_compute_efficiency;
  f.cpu_l2_bytes_per_s = cores * r.fc * b.cpu_l2_bytes_per_cycle;
  f.cpu_dram_bytes_per_s =
      smooth_min(memory_side * b.cpu_dram_share, cores * r.fc * b.cpu_dram_bytes_per_cycle, b.cpu_sharpness);
}

void set_energies(const StandinBoard& b, const Knobs& k, const Rails& r, Figures& f) {
  const double pj = 1e-12;
  f.fp32_flop_J = b.gpu_flop_pj_per_v2 * pj * r.vg * r.vg;
  f.fp16_flop_J = f.fp32_flop_J * b.fp16_flop_share;
  f.tensor_flop_J = f.fp32_flop_J * b.tensor_flop_share;
  f.l2_byte_J = b.l2_byte_pj * pj * r.vg_rel * r.vg_rel;
  const double dram_J = (b.dram_byte_pj_core + b.dram_byte_pj_ctrl * r.ve_rel * r.ve_rel) * pj;
  f.dram_byte_J = dram_J + f.l2_byte_J;
  f.cpu_flop_J = b.cpu_flop_pj_per_v2 * pj * r.vc * r.vc;
  f.cpu_l2_byte_J = b.cpu_byte_pj * pj * r.vc_rel * r.vc_rel;
  f.cpu_dram_byte_J = dram_J + f.cpu_l2_byte_J;
  const double cpu_leak = k.cpu_online * leakage(b.cpu_leak_W, r.vc, b.cpu_leak_ref_V, b.cpu_leak_slope_V);
  const double gpu_leak = r.units * leakage(b.gpu_leak_W_per_tpc, r.vg, b.gpu_leak_ref_V, b.gpu_leak_slope_V);
  const double emc = b.emc_background_W + b.emc_clock_W * r.fe_rel * r.ve_rel * r.ve_rel;
  f.static_W = b.board_W + cpu_leak + gpu_leak + emc;
  const double clock_tree = b.gpu_clock_tree_W * r.unit_share * r.fg_rel * r.vg_rel * r.vg_rel;
  const double host = b.host_core_W * r.fc_rel * r.vc_rel * r.vc_rel;
  f.gpu_busy_W = f.static_W + clock_tree + host;
  f.cpu_busy_W = f.static_W + 0.04 * k.cpu_online * r.fc_rel * r.vc_rel * r.vc_rel;
  f.idle_W = f.static_W * b.idle_share;
}

}  // namespace

Figures figures_of(const StandinBoard& b, const Knobs& k) {
  const Rails r = rails_of(b, k);
  Figures f;
  set_rates(b, k, r, f);
  set_energies(b, k, r, f);
  return f;
}

power::FrequencyTables tables_of(const StandinBoard& b) {
  power::FrequencyTables t;
  t.cpu_count = b.cpu_count;
  t.cpu_khz = b.cpu_khz;
  t.gpu_hz = b.gpu_hz;
  t.emc_hz = b.emc_hz;
  return t;
}

std::vector<power::PowerMode> grid_modes(const StandinBoard& b, const power::GridSpec& spec) {
  return power::enumerate_grid(spec, tables_of(b));
}

std::string modes_json(const std::vector<power::PowerMode>& modes) {
  nlohmann::json doc = {{"modes", nlohmann::json::array()}};
  for (const auto& m : modes) doc["modes"].push_back(power::mode_to_json(m));
  return doc.dump(2) + "\n";
}

}  // namespace edgeroof::standin
