# cmake -P test of cmake/EdgeroofDebDepends.cmake: the Debian package each library file becomes in
# a Depends, from what dpkg-query prints (a fake, tests/cmake/fake/dpkg-query-fake, reading a table
# written here), with the hand-written fallback where no package owns the file and the target's
# package for a cross package's file (libstdc++6-arm64-cross); and Debian's names of the target
# architectures. Every failed check is one line; the test fails with the count.
cmake_minimum_required(VERSION 3.18)
if(NOT EDGEROOF_SOURCE_DIR OR NOT WORK)
  message(FATAL_ERROR "test_deb_depends.cmake: run with -DEDGEROOF_SOURCE_DIR=<source tree> -DWORK=<scratch dir>")
endif()
include(${EDGEROOF_SOURCE_DIR}/cmake/EdgeroofDebDepends.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/expect.cmake)

# A library tree: real files behind soname links, as a distribution lays them out.
file(REMOVE_RECURSE ${WORK})
set(lib ${WORK}/lib)
file(MAKE_DIRECTORY ${lib})
foreach(f libdnnl.so.2.6 libc.so.6 libbenchmark.so.1.7.1 libcudart.so.12.2.140 libboth.so.1 libdiv.so.1 libodd.so.1
          libprotobuf.so.32)
  file(WRITE ${lib}/${f} "")
endforeach()
file(CREATE_LINK libdnnl.so.2.6 ${lib}/libdnnl.so.2 SYMBOLIC)
file(CREATE_LINK libdnnl.so.2 ${lib}/libdnnl.so SYMBOLIC)
file(CREATE_LINK libcudart.so.12.2.140 ${lib}/libcudart.so SYMBOLIC)
# A cross build's runtimes, as Debian's cross packages lay them out (/usr/aarch64-linux-gnu/lib) and
# the cross compiler names them (-print-file-name: through its gcc-cross folder).
set(cross ${WORK}/aarch64-linux-gnu/lib)
set(gcc_cross ${WORK}/lib/gcc-cross/aarch64-linux-gnu/12)
file(MAKE_DIRECTORY ${cross} ${gcc_cross})
foreach(f libstdc++.so.6.0.30 libc.so.6 libgcc_s.so.1)
  file(WRITE ${cross}/${f} "")
endforeach()
file(CREATE_LINK libstdc++.so.6.0.30 ${cross}/libstdc++.so.6 SYMBOLIC)
set(db ${WORK}/db)
file(WRITE ${db} "S ${lib}/libdnnl.so.2.6 libdnnl2:amd64: ${lib}/libdnnl.so.2.6
W libdnnl2:amd64 2.6.3-1+b1
S /usr${lib}/libc.so.6 libc6:amd64: /usr${lib}/libc.so.6
W libc6:amd64 2.36-9+deb12u14
S ${lib}/libbenchmark.so.1.7.1 libbenchmark1debian: ${lib}/libbenchmark.so.1.7.1
W libbenchmark1debian 1:1.7.1-1
S ${lib}/libboth.so.1 liba, libb: ${lib}/libboth.so.1
S ${lib}/libdiv.so.1 diversion by libx from: ${lib}/libdiv.so.1
S ${lib}/libdiv.so.1 diversion by libx to: ${lib}/libdiv.so.1.real
S ${lib}/libdiv.so.1 liby:arm64: ${lib}/libdiv.so.1
W liby:arm64 3.0
S ${lib}/libodd.so.1 libodd1: ${lib}/libodd.so.1
W libodd1 not a version
S ${cross}/libstdc++.so.6.0.30 libstdc++6-arm64-cross: ${cross}/libstdc++.so.6.0.30
W libstdc++6-arm64-cross 12.2.0-14cross1
S ${cross}/libc.so.6 libc6-arm64-cross: ${cross}/libc.so.6
W libc6-arm64-cross 2.36-8cross1
S ${cross}/libgcc_s.so.1 libgcc-s1-arm64-cross: ${cross}/libgcc_s.so.1
S ${lib}/libprotobuf.so.32 libprotobuf32:arm64: ${lib}/libprotobuf.so.32
W libprotobuf32:amd64 3.21.12-3+deb12u1
W libprotobuf32:arm64 3.21.12-3+deb12u1
")
set(ENV{FAKE_DPKG_DB} ${db})
set(EDGEROOF_DPKG_QUERY ${CMAKE_CURRENT_LIST_DIR}/fake/dpkg-query-fake)

set(EDGEROOF_DEB_NOTES)
edgeroof_deb_package(dep FILE ${lib}/libdnnl.so FALLBACK libdnnl9 WHY "oneDNN")
expect("the owner of the real file, through two links, with the upstream version" "${dep}" "libdnnl2 (>= 2.6.3)")
expect("its note" "${EDGEROOF_DEB_NOTES}" "${lib}/libdnnl.so.2.6: libdnnl2 (>= 2.6.3), from dpkg [oneDNN]")
edgeroof_deb_package(dep FILE ${lib}/libc.so.6 FALLBACK libc6-fallback)
expect("merged /usr: owned under /usr of the real path" "${dep}" "libc6 (>= 2.36)")
edgeroof_deb_package(dep FILE ${lib}/libbenchmark.so.1.7.1 FALLBACK x)
expect("an epoch is kept" "${dep}" "libbenchmark1debian (>= 1:1.7.1)")
edgeroof_deb_package(dep FILE ${lib}/libdiv.so.1 FALLBACK x)
expect("diversion lines are skipped" "${dep}" "liby (>= 3.0)")
edgeroof_deb_package(dep FILE ${lib}/libodd.so.1 FALLBACK x)
expect("an unreadable version gives no floor" "${dep}" "libodd1")
set(EDGEROOF_DEB_NOTES)
edgeroof_deb_package(dep FILE ${lib}/libboth.so.1 FALLBACK libboth1)
expect("a file two packages own takes the fallback" "${dep}" "libboth1")
edgeroof_deb_package(dep FILE ${lib}/libcudart.so FALLBACK cuda-cudart-12-2 WHY "CUDA backend")
expect("a file no package owns (a run-file toolkit) takes the fallback" "${dep}" "cuda-cudart-12-2")
expect("the notes say which were written by hand" "${EDGEROOF_DEB_NOTES}"
       "${lib}/libboth.so.1: libboth1, written by hand (no installed package owns the file);${lib}/libcudart.so.12.2.140: cuda-cudart-12-2, written by hand (no installed package owns the file) [CUDA backend]")
set(EDGEROOF_DEB_NOTES)
edgeroof_deb_package(dep FILE ${gcc_cross}/../../../../aarch64-linux-gnu/lib/libstdc++.so.6 FALLBACK x)
expect("a cross package's file: the target's package, with the cross package's upstream version" "${dep}"
       "libstdc++6 (>= 12.2.0)")
expect("its note names the cross package" "${EDGEROOF_DEB_NOTES}"
       "${cross}/libstdc++.so.6.0.30: libstdc++6 (>= 12.2.0), from dpkg, the target's name of libstdc++6-arm64-cross")
edgeroof_deb_package(dep FILE ${cross}/libc.so.6 FALLBACK x)
expect("the cross C library: the target's libc6" "${dep}" "libc6 (>= 2.36)")
edgeroof_deb_package(dep FILE ${cross}/libgcc_s.so.1 FALLBACK x)
expect("a cross package without a version: the target's name alone" "${dep}" "libgcc-s1")
edgeroof_deb_package(dep FILE ${lib}/libprotobuf.so.32 FALLBACK x)
expect("a library installed for two architectures: the version of the file's" "${dep}" "libprotobuf32 (>= 3.21.12)")
edgeroof_deb_package(dep FILE ${lib}/no-such.so.1 FALLBACK libnosuch1)
expect("a missing file takes the fallback" "${dep}" "libnosuch1")
edgeroof_deb_package(dep FILE "" FALLBACK libunknown1)
expect("an unknown file takes the fallback" "${dep}" "libunknown1")
set(EDGEROOF_DPKG_QUERY "")
edgeroof_deb_package(dep FILE ${lib}/libdnnl.so FALLBACK libdnnl2)
expect("without dpkg-query, the fallback" "${dep}" "libdnnl2")

foreach(case "aarch64 arm64" "ARM64 arm64" "x86_64 amd64" "AMD64 amd64" "ppc64le ppc64el" "riscv64 riscv64")
  string(REPLACE " " ";" case "${case}")
  list(GET case 0 processor)
  list(GET case 1 want)
  edgeroof_deb_architecture(arch ${processor})
  expect("the Debian architecture of ${processor}" "${arch}" "${want}")
endforeach()

file(REMOVE_RECURSE ${WORK})
if(failures GREATER 0)
  message(FATAL_ERROR "test_deb_depends: ${failures} check(s) failed")
endif()
message(STATUS "test_deb_depends: all checks passed")
