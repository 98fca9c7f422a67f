#!/usr/bin/env bash
# Optional dependencies found but unusable: with AUTO the feature must be turned off with one
# status line and the configure must succeed; with ON the configure must stop and say why. Fake
# oneDNN configs stand in for broken installs: one that fails on a dependency of its own (as
# libdnnl-dev's does without OpenCL), one whose library is missing (the link step of the probe).
# Usage: bash cmake/probes/check-unusable.sh [WORK_DIR]   (default build/check-unusable)
# Needs what the project's configure needs (cmake, ninja, a C++ compiler, Google Benchmark,
# nlohmann-json); CUDA and ONNX are left off to keep it at a few seconds per configure.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-build/check-unusable}
rm -rf "$work"
mkdir -p "$work/fails" "$work/no-library"
work=$(cd "$work" && pwd)
cat >"$work/fails/dnnlConfig.cmake" <<'EOF'
find_package(NoSuchThing REQUIRED)  # a dependency of the package that is not installed
EOF
cat >"$work/no-library/dnnlConfig.cmake" <<'EOF'
add_library(DNNL::dnnl SHARED IMPORTED)
set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION /nonexistent/libdnnl.so.3)
EOF

configure() {
  local name=$1
  shift
  cmake -S . -B "$work/build-$name" -G Ninja -DEDGEROOF_ENABLE_CUDA=OFF -DEDGEROOF_ENABLE_ONNX=OFF \
    -DEDGEROOF_BUILD_TESTS=OFF "$@" >"$work/$name.log" 2>&1
}
fail() {
  cat "$2"
  echo "check-unusable: $1 (log above: $2)" >&2
  exit 1
}
line='oneDNN CPU layer kernels off: dnnl was found but is unusable'

for name in fails no-library; do
  # Twice: a failed probe is not cached, so the second configure says the same.
  for pass in 1 2; do
    configure "$name" -Ddnnl_DIR="$work/$name" || fail "$name: AUTO must not fail the configure" "$work/$name.log"
    n=$(grep -c "$line" "$work/$name.log" || true)
    [ "$n" = 1 ] || fail "$name (configure $pass): expected one status line '$line...', got $n" "$work/$name.log"
  done
  grep -q layer_onednn_stub "$work/build-$name/build.ninja" ||
    fail "$name: oneDNN should be off (its stub built)" "$work/$name.log"
  grep "$line" "$work/$name.log" | sed 's/^/check-unusable: /'
done

if configure on -Ddnnl_DIR="$work/fails" -DEDGEROOF_ENABLE_ONEDNN=ON; then
  fail "EDGEROOF_ENABLE_ONEDNN=ON with an unusable oneDNN must stop the configure" "$work/on.log"
fi
grep -q "EDGEROOF_ENABLE_ONEDNN is ON, and dnnl was found but is unusable" "$work/on.log" ||
  fail "ON: the error should say why" "$work/on.log"
echo "check-unusable: passed (AUTO: one status line and a working configure; ON: a clear error)"
