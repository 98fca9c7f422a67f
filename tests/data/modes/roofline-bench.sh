#!/bin/sh
# Stand-in for edgeroof-bench in the adaptive sweep tests: unlike fake-bench.sh it writes results
# that fit, with rates that follow the clocks of the fake tree (--root=DIR) as they read while it
# runs, so the mode must really be in effect: fp32 FLOP/s = 2048 x GPU Hz, CPU fp32 = 16 x CPU Hz x
# CPUs online, DRAM B/s = 48 x EMC Hz, each with the time of the roofline (max of the compute and
# the memory time). The mode's power_mode.* context of --benchmark_context=K=V,K=V goes into the
# file's context as edgeroof-bench puts it there. Like the real bench it writes FILE.partial and
# renames it; --fake-sigint-at=N sends SIGINT to the sweep when N results are already there.
out=
root=/
ctx=
sigint_at=
for a in "$@"; do
  case "$a" in
    --benchmark_out=*) out=${a#--benchmark_out=} ;;
    --benchmark_context=*) ctx=${a#--benchmark_context=} ;;
    --root=*) root=${a#--root=} ;;
    --fake-sigint-at=*) sigint_at=${a#--fake-sigint-at=} ;;
  esac
done
[ -n "$out" ] || { echo "roofline-bench: no --benchmark_out" >&2; exit 2; }
gpu=$(cat "$root/sys/class/devfreq/17000000.ga10b/cur_freq")
cpu0=$(cat "$root/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
emc=$(cat "$root/sys/kernel/debug/bpmp/debug/clk/emc/rate")
online=0
for f in "$root"/sys/devices/system/cpu/cpu*/online; do
  v=$(cat "$f" 2>/dev/null) || v=1
  online=$((online + v))
done
awk -v ctx="$ctx" -v gpu="$gpu" -v cpu_khz="$cpu0" -v emc="$emc" -v online="$online" -v nonce="$(date +%s%N)" '
function bench(name, flops, bytes, rate_f, rate_b, label,   t) {
  t = flops / rate_f; if (bytes / rate_b > t) t = bytes / rate_b
  printf "%s{\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", \"repetitions\": 1, ", sep, name, name
  printf "\"repetition_index\": 0, \"threads\": 1, \"iterations\": 10, \"real_time\": %.9g, \"cpu_time\": %.9g, ", t * 1e3, t * 1e3
  printf "\"time_unit\": \"ms\", \"flops\": %.9g, \"bytes\": %.9g, \"ai\": %.9g, \"FLOP/s\": %.9g, \"B/s\": %.9g%s}", flops, bytes, flops / bytes, flops / t, bytes / t, label
  sep = ",\n  "
}
BEGIN {
  printf "{\"context\": {\"edgeroof.version\": \"0.1.0\", \"device.name\": \"Orin\", \"device.backend\": \"cuda\", \"fake.nonce\": \"%s\"", nonce
  n = split(ctx, kv, ",")
  for (i = 1; i <= n; i++) { eq = index(kv[i], "="); printf ", \"%s\": \"%s\"", substr(kv[i], 1, eq - 1), substr(kv[i], eq + 1) }
  printf "},\n \"benchmarks\": [\n  "
  q = 268435456; f = 2048 * gpu; b = 48 * emc; fc = 16 * cpu_khz * 1000 * online
  for (ai = 0.25; ai <= 256; ai *= 4) bench(sprintf("compute/cuda/fp32/ai:%g", ai), ai * q, q, f, b, "")
  for (ai = 1; ai <= 256; ai *= 16) bench(sprintf("compute/cpu/fp32/ai:%g", ai), ai * q, q, fc, b / 2, "")
  bench("memory/cuda/triad/bytes:268435456", q / 12, q, f, b, ", \"label\": \"level:dram\"")
  bench("memory/cpu/triad/bytes:268435456", q / 12, q, fc, b / 2, ", \"label\": \"level:dram\"")
  printf "\n]}\n"
}' > "$out.partial"
if [ -n "$sigint_at" ]; then
  done_count=$(ls "$(dirname "$out")" | grep -v -e '^failed\.json$' -e '^rooflines\.json$' | grep -c '\.json$')
  [ "$done_count" -ge "$sigint_at" ] && { kill -INT "$PPID"; exit 130; }
fi
mv "$out.partial" "$out"
