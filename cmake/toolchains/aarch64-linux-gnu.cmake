# Cross-building edgeroof for arm64 (a Jetson's CPU) on Debian amd64, CPU only:
#
#   cmake -S . -B build-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DEDGEROOF_ENABLE_CUDA=OFF -DEDGEROOF_CPU_ARCH=cortex-a78ae
#
# The compilers are Debian's cross compilers (crossbuild-essential-arm64). The target's libraries
# are Debian's arm64 packages installed beside the host's (dpkg --add-architecture arm64, then
# libbenchmark-dev:arm64 and the rest), in the multiarch folders /usr/lib/aarch64-linux-gnu and
# /usr/include/aarch64-linux-gnu. .ci/arm64-package does all of it in a fresh root. A sysroot (a
# copy of a board's root file system) is used instead when CMAKE_SYSROOT is given.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
# Where the libraries of one architecture live in a multiarch root: find_library and
# find_package look in <prefix>/lib/aarch64-linux-gnu, never in the host's x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Libraries, headers and package configs of the target only; programs run at build time (protoc)
# are the host's. The modes act on a sysroot (or a CMAKE_FIND_ROOT_PATH given on the command
# line); in a multiarch root there is nothing to re-root, and CMAKE_LIBRARY_ARCHITECTURE sorts.
if(CMAKE_SYSROOT)
  set(CMAKE_FIND_ROOT_PATH "${CMAKE_SYSROOT}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# edgeroof uses no pkg-config; nothing to point at aarch64-linux-gnu-pkg-config.
