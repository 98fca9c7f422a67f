# The Depends of edgeroof's Debian packages, written by hand: CPack's automatic shlibdeps
# (dpkg-shlibdeps) fails on the CUDA and L4T libraries, which ship no shlibs or symbols files. The
# list of libraries the programs load is hand-written in EdgeroofPackage.cmake; here each one
# becomes the package that ships it on the machine that builds (the release the .deb is for):
#
#   edgeroof_deb_package(<out> FILE <library file> FALLBACK <package> [WHY <text>])
#     <out> gets "<package> (>= <upstream version>)" when dpkg-query says which installed package
#     owns the file (its real path, and the same path with or without the /usr prefix, for
#     merged-/usr systems), else FALLBACK alone (a toolkit from a run-file installer, a build
#     without dpkg); EDGEROOF_DEB_NOTES gets a line saying which, for the configure summary.
#     A cross package's file (libstdc++6-arm64-cross owns /usr/aarch64-linux-gnu/lib/libstdc++.so.6
#     in a cross build) becomes the target's package of that name, libstdc++6: the cross package
#     is only installable on the build machine, and the target's shares its upstream version.
#
# EDGEROOF_DPKG_QUERY names dpkg-query (tests point it at a fake one). Usable from `cmake -P`.

function(edgeroof_deb_package out)
  cmake_parse_arguments(ARG "" "FILE;FALLBACK;WHY" "" ${ARGN})
  if(NOT ARG_FALLBACK)
    message(FATAL_ERROR "edgeroof_deb_package: no FALLBACK for ${ARG_FILE}")
  endif()
  if(NOT DEFINED EDGEROOF_DPKG_QUERY)
    find_program(EDGEROOF_DPKG_QUERY dpkg-query)
  endif()
  set(package "")
  set(real "${ARG_FILE}")
  if(ARG_FILE AND EXISTS "${ARG_FILE}")
    get_filename_component(real "${ARG_FILE}" REALPATH)
  endif()
  if(ARG_FILE AND EXISTS "${ARG_FILE}" AND EDGEROOF_DPKG_QUERY)
    set(paths "${real}")
    if(real MATCHES "^/usr(/.*)$")
      list(APPEND paths "${CMAKE_MATCH_1}")
    else()
      list(APPEND paths "/usr${real}")
    endif()
    foreach(path IN LISTS paths)
      execute_process(COMMAND ${EDGEROOF_DPKG_QUERY} -S "${path}" OUTPUT_VARIABLE owner RESULT_VARIABLE rc
                      ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      # "libdnnl2:amd64: /usr/lib/x86_64-linux-gnu/libdnnl.so.2.6": the owner, named before ": ";
      # "diversion by ..." lines are skipped, and a file two packages own ("a, b: path") is not
      # taken as either's.
      if(NOT rc EQUAL 0)
        continue()
      endif()
      string(REPLACE "\n" ";" lines "${owner}")
      foreach(line IN LISTS lines)
        if(line MATCHES "^([a-z0-9][a-z0-9.+-]+)(:[a-z0-9-]+)?: (.*)$" AND CMAKE_MATCH_3 STREQUAL path)
          set(package "${CMAKE_MATCH_1}")
          set(qualified "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
          break()
        endif()
      endforeach()
      if(package)
        break()
      endif()
    endforeach()
  endif()
  if(package)
    # With its architecture, as -S names it: a library installed for two (libprotobuf32:arm64 for
    # the target, :amd64 for protoc in a cross build) has a version each, which a bare -W prints
    # one after the other.
    execute_process(COMMAND ${EDGEROOF_DPKG_QUERY} -W "-f=\${Version}" "${qualified}" OUTPUT_VARIABLE version
                    RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    # The upstream version, epoch kept and Debian revision dropped: "1:2.6.3-1+b1" is "1:2.6.3".
    string(REGEX REPLACE "-[^-]*$" "" upstream "${version}")
    # "<package>-<Debian architecture>-cross", as Debian's cross-toolchain packages are named.
    set(target_package "${package}")
    set(via "")
    if(package MATCHES "^(.+)-[a-z0-9]+-cross$")
      set(target_package "${CMAKE_MATCH_1}")
      set(via ", the target's name of ${package}")
    endif()
    if(rc EQUAL 0 AND upstream MATCHES "^([0-9]+:)?[0-9][A-Za-z0-9.+~:]*$")
      set(dep "${target_package} (>= ${upstream})")
    else()
      set(dep "${target_package}")
    endif()
    set(note "${real}: ${dep}, from dpkg${via}")
  else()
    set(dep "${ARG_FALLBACK}")
    if(NOT ARG_FILE)
      set(real "(library file unknown)")
    endif()
    set(note "${real}: ${dep}, written by hand (no installed package owns the file)")
  endif()
  if(ARG_WHY)
    string(APPEND note " [${ARG_WHY}]")
  endif()
  set(${out} "${dep}" PARENT_SCOPE)
  set(EDGEROOF_DEB_NOTES ${EDGEROOF_DEB_NOTES} "${note}" PARENT_SCOPE)
endfunction()

# edgeroof_deb_architecture(<out> <CMAKE_SYSTEM_PROCESSOR>): Debian's name of the target's
# architecture (aarch64 is arm64, x86_64 is amd64), so a cross build is named for its target.
function(edgeroof_deb_architecture out processor)
  string(TOLOWER "${processor}" p)
  if(p MATCHES "^(aarch64|arm64)$")
    set(arch arm64)
  elseif(p MATCHES "^(x86_64|amd64)$")
    set(arch amd64)
  elseif(p MATCHES "^(ppc64le|powerpc64le)$")
    set(arch ppc64el)
  elseif(p MATCHES "^riscv64$")
    set(arch riscv64)
  else()
    message(FATAL_ERROR "edgeroof: no Debian architecture known for the processor ${processor}")
  endif()
  set(${out} ${arch} PARENT_SCOPE)
endfunction()
