#!/bin/sh
# Stand-in for edgeroof-bench in the sweep tests. Like the real one it writes FILE.partial and
# renames it to FILE (--benchmark_out=FILE) when done; in between it sleeps --fake-sleep=S, so a
# test can interrupt it. It records the clocks of the fake tree (--root=DIR) while it runs, to show
# that the mode was in effect, and a nonce, to show whether a file was rewritten.
out=
root=/
ctx=
sleep_s=0
for a in "$@"; do
  case "$a" in
    --benchmark_out=*) out=${a#--benchmark_out=} ;;
    --benchmark_context=*) ctx=${a#--benchmark_context=} ;;
    --root=*) root=${a#--root=} ;;
    --fake-sleep=*) sleep_s=${a#--fake-sleep=} ;;
    --fake-fail) echo "fake-bench: failing as asked" >&2; exit 3 ;;
  esac
done
[ -n "$out" ] || { echo "fake-bench: no --benchmark_out" >&2; exit 2; }
gpu=$(cat "$root/sys/class/devfreq/17000000.ga10b/cur_freq")
online=0
for f in "$root"/sys/devices/system/cpu/cpu*/online; do
  v=$(cat "$f" 2>/dev/null) || v=1  # unreadable: always online, as edgeroof treats it
  online=$((online + v))
done
printf '{"context": {"fake.context_arg": "%s", "fake.gpu_cur_freq": "%s", "fake.cpus_online": "%s", "fake.nonce": "%s"}, "benchmarks": []}\n' \
  "$ctx" "$gpu" "$online" "$(date +%s%N)" > "$out.partial"
sleep "$sleep_s"
mv "$out.partial" "$out"
