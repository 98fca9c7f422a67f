# Building libFuzzer binaries with clang beside a project built with another compiler: each source
# becomes one sanitized clang object (compiled once, however many fuzz targets use it), and each
# target one link. All of it hangs off one custom target, edgeroof_fuzzers, so that no generator
# runs a custom command from two targets at once.
#
#   edgeroof_clang_fuzzer(<name> SOURCES <files...> [LINK <imported targets...>])
#     builds ${CMAKE_CURRENT_BINARY_DIR}/libfuzzer/<name> and sets <name>_binary in the caller.
#   edgeroof_clang_fuzzers_done()  adds edgeroof_fuzzers (ALL) over every binary declared.
#
# The compile flags are the same for every object: the project's include folders and those of
# the imported libraries in EDGEROOF_CLANG_IMPORTED (their directories and definitions).

set(EDGEROOF_CLANG_FLAGS -std=c++17 -O1 -gline-tables-only -fno-omit-frame-pointer
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
set(_clang_includes)
foreach(dir reports/include dnn/model/include power/include kernels/include)
  list(APPEND _clang_includes -I${PROJECT_SOURCE_DIR}/${dir})
endforeach()
set(_clang_defines)
foreach(lib IN LISTS EDGEROOF_CLANG_IMPORTED)
  get_target_property(dirs ${lib} INTERFACE_INCLUDE_DIRECTORIES)
  foreach(dir IN LISTS dirs)
    # The compiler's own folders (/usr/include) must keep their place after the C++ headers.
    if(dir AND NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES AND NOT dir STREQUAL "/usr/include")
      list(APPEND _clang_includes -isystem ${dir})
    endif()
  endforeach()
  # Definitions may be generator expressions (nlohmann_json's are); those that come out empty go.
  set(defs "$<FILTER:$<TARGET_PROPERTY:${lib},INTERFACE_COMPILE_DEFINITIONS>,INCLUDE,.>")
  list(APPEND _clang_defines "$<$<BOOL:${defs}>:-D$<JOIN:${defs},$<SEMICOLON>-D>>")
endforeach()
set_property(GLOBAL PROPERTY EDGEROOF_CLANG_OBJECTS "")
set_property(GLOBAL PROPERTY EDGEROOF_CLANG_BINARIES "")

function(_edgeroof_clang_object source out_var)
  get_filename_component(abs ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${abs})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/clang-obj/${rel}.o)
  set(${out_var} ${obj} PARENT_SCOPE)
  get_property(done GLOBAL PROPERTY EDGEROOF_CLANG_OBJECTS)
  if(obj IN_LIST done)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY EDGEROOF_CLANG_OBJECTS ${obj})
  get_filename_component(obj_dir ${obj} DIRECTORY)
  file(MAKE_DIRECTORY ${obj_dir})
  set(headers)
  set(depfile)
  if(CMAKE_GENERATOR MATCHES "Ninja" OR CMAKE_VERSION VERSION_GREATER_EQUAL 3.20)
    set(depfile DEPFILE ${obj}.d)
  else()
    file(GLOB_RECURSE headers ${PROJECT_SOURCE_DIR}/*/include/*.hpp ${CMAKE_CURRENT_SOURCE_DIR}/*.hpp)
  endif()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${EDGEROOF_CLANGXX} ${EDGEROOF_CLANG_FLAGS} ${_clang_defines} ${_clang_includes} -MD -MF ${obj}.d
            -c ${abs} -o ${obj}
    # Not MAIN_DEPENDENCY: that would take the source away from the replay drivers' GCC compile.
    DEPENDS ${abs} ${headers} ${depfile}
    COMMENT "clang (fuzzing) ${rel}"
    COMMAND_EXPAND_LISTS VERBATIM)
endfunction()

function(edgeroof_clang_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
  set(objects)
  foreach(src IN LISTS ARG_SOURCES)
    _edgeroof_clang_object(${src} obj)
    list(APPEND objects ${obj})
  endforeach()
  set(libs)
  foreach(lib IN LISTS ARG_LINK)
    list(APPEND libs $<TARGET_FILE:${lib}>)
  endforeach()
  set(binary ${CMAKE_CURRENT_BINARY_DIR}/libfuzzer/${name})
  file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/libfuzzer)
  set(system_libs -pthread)
  foreach(lib IN LISTS CMAKE_DL_LIBS)
    list(APPEND system_libs -l${lib})
  endforeach()
  add_custom_command(
    OUTPUT ${binary}
    COMMAND ${EDGEROOF_CLANGXX} -fsanitize=fuzzer,address,undefined ${objects} -o ${binary} ${libs} ${system_libs}
    DEPENDS ${objects}
    COMMENT "clang (fuzzing) linking ${name}"
    VERBATIM)
  set_property(GLOBAL APPEND PROPERTY EDGEROOF_CLANG_BINARIES ${binary})
  set(${name}_binary ${binary} PARENT_SCOPE)
endfunction()

function(edgeroof_clang_fuzzers_done)
  get_property(binaries GLOBAL PROPERTY EDGEROOF_CLANG_BINARIES)
  add_custom_target(edgeroof_fuzzers ALL DEPENDS ${binaries})
endfunction()
