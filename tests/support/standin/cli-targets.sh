#!/bin/sh
# The issue's speed targets through the command line, with JSON in and out, on a stand-in board
# (simulated results, not measurements; README.md here):
#   plan in rounds of 11 up to a budget of 44 (each round's modes made by edgeroof-standin),
#   fit --predict-modes over every mode of the grid, tune --max-slowdown 5% over them.
# usage: cli-targets.sh EDGEROOF EDGEROOF_STANDIN WORKDIR [orin-agx|orin-nx] [BUDGET]
# Prints one line per timed step: "<step> <seconds>", and the tune choices; warnings go to WORKDIR/*.err.
# Exits non-zero when a step fails.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 EDGEROOF EDGEROOF_STANDIN WORKDIR [BOARD] [BUDGET]" >&2; exit 2; }
edgeroof=$1
standin=$2
work=$3
board=${4:-orin-agx}
budget=${5:-44}
mkdir -p "$work/results"
now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{printf "%.3f", $2 - $1}'; }

"$standin" modes --board "$board" > "$work/modes.json"
measured=0
round=0
while [ "$measured" -lt "$budget" ]; do
  round=$((round + 1))
  t0=$(now)
  "$edgeroof" plan --modes-file "$work/modes.json" --results "$work/results" --budget "$budget" --next 11 \
    --format json > "$work/plan-$round.json" 2> "$work/plan-$round.err"
  echo "plan-round-$round $(elapsed "$t0" "$(now)")"
  picked=$(jq '.measure | length' "$work/plan-$round.json")
  [ "$picked" -gt 0 ] || break
  "$standin" results --board "$board" --modes "$work/modes.json" --plan "$work/plan-$round.json" \
    --out "$work/results" 2> /dev/null
  measured=$((measured + picked))
done
echo "measured $measured"
t0=$(now)
"$edgeroof" fit "$work/results" --predict-modes "$work/modes.json" -o "$work/rooflines.json" > /dev/null 2> "$work/fit.err"
echo "fit-predict-modes $(elapsed "$t0" "$(now)")"
for model in "resnet50 16" "bert_large 1"; do
  set -- $model
  t0=$(now)
  "$edgeroof" tune --model "$1" --batch "$2" --rooflines "$work/rooflines.json" --max-slowdown 5% --format json \
    > "$work/tune-$1.json" 2> "$work/tune-$1.err"
  echo "tune-$1 $(elapsed "$t0" "$(now)") chosen $(jq -r '.chosen.key' "$work/tune-$1.json")"
done
