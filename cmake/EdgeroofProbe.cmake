# edgeroof_probe(<name> FOUND_VARS <var>... [FORWARD <var>...] [NOT_FOUND_REGEX <regex>])
#
# Tries an optional dependency in a CMake process of its own: configures and builds the tiny
# project cmake/probes/<name>/ (find_package(... REQUIRED) and a one-line program linked against
# the package's targets). A package config that fails on a missing dependency of its own, as
# libdnnl-dev's does without OpenCL, is a FATAL_ERROR that no QUIET and no try_compile(PROJECT)
# can contain; here it only fails the probe. Sets in the caller:
#
#   EDGEROOF_PROBE_<name>         FOUND (configures and links), NOTFOUND or UNUSABLE
#   EDGEROOF_PROBE_<name>_REASON  for UNUSABLE: the probe's first error on one line
#   EDGEROOF_PROBE_<name>_LOG     for UNUSABLE: the probe's whole output
#
# FOUND_VARS are cache entries of the probe that its find step sets before anything can fail
# (<pkg>_DIR, a library path); all of them set means the package was found. NOT_FOUND_REGEX
# matches the probe's output when the package itself is missing (a fallback for the same).
# FORWARD names variables of this project passed on to the probe when they are set, besides the
# compiler, generator and search paths. Only success is cached (per build dir, keyed on the probe,
# its inputs and the timestamps of the files it found); a failed probe runs again at the next
# configure, so installing the missing piece is seen at once.

# The probe's inputs as an initial-cache script (lists survive) from the variables <prefix><var>.
function(_edgeroof_probe_init out prefix)
  set(init "")
  foreach(var IN LISTS ARGN)
    if(DEFINED ${prefix}${var} AND NOT "${${prefix}${var}}" STREQUAL "")
      string(APPEND init "set(${var} [==[${${prefix}${var}}]==] CACHE STRING \"\")\n")
    endif()
  endforeach()
  string(APPEND init "set(EDGEROOF_CMAKE_DIR [==[${PROJECT_SOURCE_DIR}/cmake]==] CACHE PATH \"\")\n")
  set(${out} "${init}" PARENT_SCOPE)
endfunction()

# The cache key of a probe: its sources, its inputs and the timestamps of the files it found.
function(_edgeroof_probe_key out src init files)
  file(GLOB probe_files ${src}/* ${PROJECT_SOURCE_DIR}/cmake/Find*.cmake)
  set(inputs "${CMAKE_VERSION}|${CMAKE_GENERATOR}|$ENV{CMAKE_PREFIX_PATH}|${init}")
  foreach(f IN LISTS probe_files)
    file(READ ${f} text)
    string(APPEND inputs "|${text}")
  endforeach()
  foreach(f IN LISTS files)
    file(TIMESTAMP "${f}" t "%s")
    string(APPEND inputs "|${f}@${t}")
  endforeach()
  string(MD5 key "${inputs}")
  set(${out} ${key} PARENT_SCOPE)
endfunction()

function(edgeroof_probe name)
  cmake_parse_arguments(ARG "" "NOT_FOUND_REGEX" "FOUND_VARS;FORWARD" ${ARGN})
  set(src ${PROJECT_SOURCE_DIR}/cmake/probes/${name})
  set(bin ${PROJECT_BINARY_DIR}/edgeroof-probes/${name})
  set(result_var EDGEROOF_PROBE_${name})
  set(${result_var}_REASON "" PARENT_SCOPE)
  set(${result_var}_LOG "" PARENT_SCOPE)
  set(vars CMAKE_CXX_COMPILER CMAKE_MAKE_PROGRAM CMAKE_TOOLCHAIN_FILE CMAKE_SYSROOT CMAKE_PREFIX_PATH
           CMAKE_FIND_ROOT_PATH CMAKE_IGNORE_PATH CMAKE_IGNORE_PREFIX_PATH ${ARG_FORWARD})
  _edgeroof_probe_init(init "" ${vars})

  # A cached success holds while the inputs and the files the probe found are unchanged. It was
  # keyed on the forwarded variables as the probe left them, which is how the find_package after
  # it leaves them here.
  if(DEFINED CACHE{${result_var}_KEY})
    _edgeroof_probe_key(key ${src} "${init}" "${${result_var}_FILES}")
    if(key STREQUAL "${${result_var}_KEY}")
      set(${result_var} FOUND PARENT_SCOPE)
      return()
    endif()
  endif()

  file(REMOVE_RECURSE ${bin})
  file(MAKE_DIRECTORY ${bin})
  file(WRITE ${bin}/init.cmake "${init}")
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${src} -B ${bin}/build -G ${CMAKE_GENERATOR} -C ${bin}/init.cmake
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  set(step configure)
  if(rc EQUAL 0)
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${bin}/build
                    RESULT_VARIABLE rc OUTPUT_VARIABLE build_out ERROR_VARIABLE build_out)
    string(APPEND out "${build_out}")
    set(step build)
  endif()
  file(WRITE ${bin}/probe.log "${out}")

  if(rc EQUAL 0)
    set(found_files "")
    if(EXISTS ${bin}/build/found-files.txt)
      file(STRINGS ${bin}/build/found-files.txt found_files)
    endif()
    load_cache(${bin}/build READ_WITH_PREFIX after_ ${vars})
    _edgeroof_probe_init(init_after after_ ${vars})
    _edgeroof_probe_key(key ${src} "${init_after}" "${found_files}")
    set(${result_var}_FILES "${found_files}" CACHE INTERNAL "Files the ${name} probe found")
    set(${result_var}_KEY "${key}" CACHE INTERNAL "Inputs of the last successful ${name} probe")
    set(${result_var} FOUND PARENT_SCOPE)
    return()
  endif()
  unset(${result_var}_KEY CACHE)

  # Found or not: the probe's own cache says whether its find step located the package; where
  # it says nothing, the probe's output does.
  set(found "")
  if(EXISTS ${bin}/build/CMakeCache.txt)
    load_cache(${bin}/build READ_WITH_PREFIX probe_ ${ARG_FOUND_VARS})
    foreach(var IN LISTS ARG_FOUND_VARS)
      if(NOT DEFINED probe_${var})
        continue()
      elseif(probe_${var} STREQUAL "" OR probe_${var} MATCHES "NOTFOUND$")
        set(found FALSE)
      elseif(found STREQUAL "")
        set(found TRUE)
      endif()
    endforeach()
  endif()
  if(found STREQUAL "")
    set(found TRUE)
    if(ARG_NOT_FOUND_REGEX AND out MATCHES "${ARG_NOT_FOUND_REGEX}")
      set(found FALSE)
    endif()
  endif()
  if(NOT found)
    set(${result_var} NOTFOUND PARENT_SCOPE)
    return()
  endif()

  # One line out of the first error: CMake's first message paragraph and the outermost frame
  # outside the probe (the package file that failed), or the compiler's or linker's first error.
  set(reason "the probe's ${step} step failed")
  if(step STREQUAL "configure" AND out MATCHES "CMake Error at ([^\n]*) \\([^\n]*\\):\n(([ ]+[^\n]*\n)+)")
    set(where "${CMAKE_MATCH_1}")
    string(REGEX REPLACE "[ \n]+" " " reason "${CMAKE_MATCH_2}")
    string(STRIP "${reason}" reason)
    if(out MATCHES "Call Stack \\(most recent call first\\):\n(([ ]+[^\n]*\n)+)")
      string(REGEX MATCHALL "[^ \n][^\n]*:[0-9]+ \\(" frames "${CMAKE_MATCH_1}")
      foreach(frame IN LISTS frames)
        if(NOT frame MATCHES "^CMakeLists.txt:")
          string(REGEX REPLACE " \\($" "" where "${frame}")
        endif()
      endforeach()
    endif()
    string(APPEND reason " (${where})")
  elseif(out MATCHES "([^\n]*(error|cannot find|undefined reference)[^\n]*)")
    string(STRIP "${CMAKE_MATCH_1}" reason)
  endif()
  string(LENGTH "${reason}" length)
  if(length GREATER 300)
    string(SUBSTRING "${reason}" 0 297 reason)
    string(APPEND reason "...")
  endif()
  set(${result_var} UNUSABLE PARENT_SCOPE)
  set(${result_var}_REASON "${reason}" PARENT_SCOPE)
  set(${result_var}_LOG "${bin}/probe.log" PARENT_SCOPE)
endfunction()

# edgeroof_optional_package(<name> <option> <feature-off> FIX <text> <edgeroof_probe args>...)
# Probes <name> for the AUTO/ON option <option> and sets <name>_PROBE_OK in the caller. An
# unusable package turns the feature off with one status line that says why and how to fix it
# (<feature-off>, e.g. "oneDNN CPU layer kernels off"), or, with the option ON, stops the
# configure with the same words. A missing package is left to the caller.
macro(edgeroof_optional_package name option feature_off)
  cmake_parse_arguments(_eop "" "FIX" "" ${ARGN})
  edgeroof_probe(${name} ${_eop_UNPARSED_ARGUMENTS})
  set(${name}_PROBE_OK OFF)
  if(EDGEROOF_PROBE_${name} STREQUAL "FOUND")
    set(${name}_PROBE_OK ON)
  elseif(EDGEROOF_PROBE_${name} STREQUAL "UNUSABLE")
    set(_eop_why "${name} was found but is unusable: ${EDGEROOF_PROBE_${name}_REASON}. Fix: ${_eop_FIX}")
    if(${option} STREQUAL "ON")
      message(FATAL_ERROR "${option} is ON, and ${_eop_why}, or use -D${option}=OFF. Probe log: ${EDGEROOF_PROBE_${name}_LOG}")
    endif()
    message(STATUS "edgeroof: ${feature_off}: ${_eop_why}, or -D${option}=OFF to silence this; log: ${EDGEROOF_PROBE_${name}_LOG}")
  endif()
endmacro()
