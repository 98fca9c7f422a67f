#!/bin/sh
# Stand-in for edgeroof-bench in the sweep tests. Like the real one it writes FILE.partial and
# renames it to FILE (--benchmark_out=FILE) when done; in between it sleeps --fake-sleep=S and, like
# the real one, ends on SIGTERM or SIGINT without renaming. It records the clocks of the fake tree
# (--root=DIR) while it runs, to show that the mode was in effect, and a nonce, to show whether a
# file was rewritten. Interruptions come from inside, so a test needs no second process:
# --fake-sigint-at=N sends SIGINT to the sweep (its parent) when N results are already there;
# --fake-ctrl-c sends it to the whole process group, as a terminal's Ctrl-C does.
out=
root=/
ctx=
sleep_s=0
sigint_at=
ctrl_c=
for a in "$@"; do
  case "$a" in
    --benchmark_out=*) out=${a#--benchmark_out=} ;;
    --benchmark_context=*) ctx=${a#--benchmark_context=} ;;
    --root=*) root=${a#--root=} ;;
    --fake-sleep=*) sleep_s=${a#--fake-sleep=} ;;
    --fake-sigint-at=*) sigint_at=${a#--fake-sigint-at=} ;;
    --fake-ctrl-c) ctrl_c=1 ;;
    --fake-fail) echo "fake-bench: failing as asked" >&2; exit 3 ;;
  esac
done
[ -n "$out" ] || { echo "fake-bench: no --benchmark_out" >&2; exit 2; }
# The GPU's devfreq link is 17000000.ga10b on L4T 35 and 17000000.gpu on L4T 36.
gpu=
for g in "$root/sys/class/devfreq/17000000.ga10b" "$root/sys/class/devfreq/17000000.gpu"; do
  [ -e "$g/cur_freq" ] && gpu=$(cat "$g/cur_freq")
done
cpu0=$(cat "$root/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
emc=$(cat "$root/sys/kernel/debug/bpmp/debug/clk/emc/rate")
online=0
for f in "$root"/sys/devices/system/cpu/cpu*/online; do
  v=$(cat "$f" 2>/dev/null) || v=1  # unreadable: always online, as edgeroof treats it
  online=$((online + v))
done
printf '{"context": {"fake.context_arg": "%s", "fake.gpu_cur_freq": "%s", "fake.cpu0_cur_freq": "%s", "fake.emc_rate": "%s", "fake.cpus_online": "%s", "fake.nonce": "%s"}, "benchmarks": []}\n' \
  "$ctx" "$gpu" "$cpu0" "$emc" "$online" "$(date +%s%N)" > "$out.partial"
sleep "$sleep_s" &
sleeper=$!
trap 'kill $sleeper 2>/dev/null; exit 143' TERM
trap 'kill $sleeper 2>/dev/null; exit 130' INT
if [ -n "$sigint_at" ]; then
  done_count=$(ls "$(dirname "$out")" | grep -v '^failed\.json$' | grep -c '\.json$')
  [ "$done_count" -ge "$sigint_at" ] && kill -INT "$PPID"
fi
[ -n "$ctrl_c" ] && kill -INT 0
wait $sleeper
mv "$out.partial" "$out"
