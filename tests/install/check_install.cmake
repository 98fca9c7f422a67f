# The install-and-consume check (CTest `install.consume`):
#  1. `cmake --install BUILD_DIR --prefix PREFIX` into an empty PREFIX installs exactly the programs,
#     the README, the headers of the four libraries and config.hpp, the four static libraries and
#     the CMake package files;
#  2. the installed programs run from PREFIX: `edgeroof --help` and `--version`, `edgeroof-bench
#     --benchmark_list_tests` (the same list as the build tree's), `edgeroof model`, and `edgeroof
#     sweep --dry-run` runs the edgeroof-bench next to itself (the build tree's, the one in
#     <build>/bench; one with neither says where it looked);
#  3. a consumer project (consumer/) configures against PREFIX alone with find_package(edgeroof
#     CONFIG), builds, links edgeroof::analysis and prints what the installed `edgeroof model`
#     prints; asking it for version 0.2 fails.
# cmake -DSOURCE_DIR= -DBUILD_DIR= -DPREFIX= -DWORK= -DGENERATOR= -DCXX= -DBINDIR= -DLIBDIR=
#       -DINCLUDEDIR= -DDOCDIR= -DVERSION= -P check_install.cmake
cmake_minimum_required(VERSION 3.19)  # string(JSON)

set(CHECK_NAME install)
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require(check_install.cmake SOURCE_DIR BUILD_DIR PREFIX WORK GENERATOR CXX BINDIR LIBDIR INCLUDEDIR
        DOCDIR VERSION)

file(REMOVE_RECURSE "${PREFIX}" "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

# 1. Exactly what should be there.
run(_ ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}")
set(expected
  ${BINDIR}/edgeroof ${BINDIR}/edgeroof-bench ${DOCDIR}/README.md
  ${INCLUDEDIR}/edgeroof/config.hpp
  ${LIBDIR}/cmake/edgeroof/edgeroofConfig.cmake ${LIBDIR}/cmake/edgeroof/edgeroofConfigVersion.cmake
  ${LIBDIR}/cmake/edgeroof/edgeroofTargets.cmake ${LIBDIR}/cmake/edgeroof/edgeroofTargets-release.cmake)
if(EXISTS "${BUILD_DIR}/bench/edgeroof-probe")
  list(APPEND expected ${BINDIR}/edgeroof-probe)
endif()
foreach(room results dnn_model power analysis)
  list(APPEND expected ${LIBDIR}/libedgeroof_${room}.a)
endforeach()
foreach(dir bench/results/include dnn/model/include power/include reports/analysis/include)
  file(GLOB_RECURSE headers RELATIVE "${SOURCE_DIR}/${dir}" "${SOURCE_DIR}/${dir}/*.hpp")
  foreach(h IN LISTS headers)
    list(APPEND expected ${INCLUDEDIR}/${h})
  endforeach()
endforeach()
file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE "${PREFIX}" "${PREFIX}/*")
list(SORT expected)
list(SORT installed)
if(NOT installed STREQUAL expected)
  set(missing ${expected})
  list(REMOVE_ITEM missing ${installed})
  set(extra ${installed})
  list(REMOVE_ITEM extra ${expected})
  fail("the install under ${PREFIX} differs from the expected files; missing: [${missing}] extra: [${extra}]")
endif()
list(LENGTH installed n)
message(STATUS "install check: ${n} files installed, as expected")

# 2. The installed programs, from the prefix.
set(bin "${PREFIX}/${BINDIR}")
run(help "${bin}/edgeroof" --help)
if(NOT help MATCHES "'edgeroof COMMAND --help' describes a command")
  fail("${bin}/edgeroof --help printed no command list:\n${help}")
endif()
run(version "${bin}/edgeroof" --version)
if(NOT version STREQUAL "edgeroof ${VERSION}\n")
  fail("${bin}/edgeroof --version printed '${version}', not 'edgeroof ${VERSION}'")
endif()
run(listed "${bin}/edgeroof-bench" --benchmark_list_tests)
run(listed_build "${BUILD_DIR}/bench/edgeroof-bench" --benchmark_list_tests)
if(NOT listed MATCHES "(^|\n)compute/cpu/fp32/" OR NOT listed STREQUAL listed_build)
  fail("the installed edgeroof-bench --benchmark_list_tests differs from the build tree's or lists no CPU compute")
endif()
run(model_json "${bin}/edgeroof" model resnet50 --format json)
string(JSON flops GET "${model_json}" totals flops)
string(JSON bytes GET "${model_json}" totals bytes)
# CMake writes a JSON number back as a double ("8217410088.0"); the totals are whole numbers.
string(REGEX REPLACE "\\.0+$" "" flops "${flops}")
string(REGEX REPLACE "\\.0+$" "" bytes "${bytes}")

# expect_bench(<edgeroof> <bench>): a dry-run sweep of a Jetson conf by <edgeroof> runs <bench>.
function(expect_bench edgeroof bench)
  run(dry "${edgeroof}" sweep --dry-run --root "${WORK}" --out "${WORK}/sweep"
      --nvpmodel-conf "${SOURCE_DIR}/tests/data/modes/nvpmodel_p3701_0000.conf" --modes nvpmodel:0)
  string(FIND "${dry}" "run ${bench} " at)
  if(at EQUAL -1)
    fail("${edgeroof} sweep does not run ${bench}:\n${dry}")
  endif()
endfunction()
# The installed edgeroof runs the edgeroof-bench beside it (not the build tree's, which this
# prefix does not have); the build tree's edgeroof the build tree's, <build>/bench/edgeroof-bench.
expect_bench("${bin}/edgeroof" "${bin}/edgeroof-bench")
expect_bench("${BUILD_DIR}/reports/edgeroof" "${BUILD_DIR}/bench/edgeroof-bench")
# An edgeroof with no bench beside it or in a build tree says where it looked, before touching
# the (here empty) machine tree.
file(MAKE_DIRECTORY "${WORK}/lonely")
file(COPY "${bin}/edgeroof" DESTINATION "${WORK}/lonely")
execute_process(COMMAND "${WORK}/lonely/edgeroof" sweep --root "${WORK}" --out "${WORK}/sweep"
                        --nvpmodel-conf "${SOURCE_DIR}/tests/data/modes/nvpmodel_p3701_0000.conf" --modes nvpmodel:0
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(want_err "edgeroof sweep: edgeroof-bench not found at ${WORK}/lonely/edgeroof-bench or ${WORK}/bench/edgeroof-bench; \
name it with --bench PATH (see 'edgeroof sweep --help')\n")
if(NOT rc EQUAL 2 OR NOT err STREQUAL want_err)
  fail("an edgeroof without a bench exited ${rc} with\n${err}\nnot 2 with\n${want_err}")
endif()
message(STATUS "install check: the installed programs run from ${PREFIX}")

# 3. A consumer project against the prefix alone.
set(configure ${CMAKE_COMMAND} -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -S "${CMAKE_CURRENT_LIST_DIR}/consumer")
run(_ ${configure} -B "${WORK}/consumer")
file(STRINGS "${WORK}/consumer/CMakeCache.txt" found REGEX "^edgeroof_DIR:")
if(NOT found STREQUAL "edgeroof_DIR:PATH=${PREFIX}/${LIBDIR}/cmake/edgeroof")
  fail("the consumer found edgeroof at '${found}', not in ${PREFIX}")
endif()
run(_ ${CMAKE_COMMAND} --build "${WORK}/consumer")
run(printed "${WORK}/consumer/consumer" resnet50)
file(STRINGS "${BUILD_DIR}/generated/include/edgeroof/config.hpp" switches REGEX "^#define EDGEROOF_HAVE_")
string(REGEX REPLACE "[^;]*EDGEROOF_HAVE_([A-Z]+) ([01])" "\\1=\\2" switches "${switches}")
string(TOLOWER "${switches}" switches)
list(JOIN switches " " switches)
string(JSON layers LENGTH "${model_json}" layers)
set(want "version ${VERSION}
switches ${switches}
name model/cpu/resnet50/inference/bs:1
flops ${flops}
bytes ${bytes}
layers ${layers}
")
string(FIND "${printed}" "${want}" at)
if(NOT at EQUAL 0 OR NOT printed MATCHES "\nshard 1/4\nrho 0.800\n$")
  fail("the consumer printed\n${printed}\nwhich does not start with\n${want}and end with shard 1/4, rho 0.800")
endif()

execute_process(COMMAND ${configure} -B "${WORK}/consumer-0.2" -DEDGEROOF_WANTED=0.2 RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "compatible with requested version \"0.2\"")
  fail("find_package(edgeroof 0.2) against ${VERSION} did not fail on the version (exit ${rc}):\n${err}")
endif()
message(STATUS "install check: a consumer project builds against ${PREFIX} and agrees with edgeroof model")
