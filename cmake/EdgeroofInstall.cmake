# Install and export. Included by the top-level CMakeLists.txt before the rooms (for the generated
# edgeroof/config.hpp and GNUInstallDirs) and its edgeroof_install_rules() called after them.
#
# What installs, in two components (the two Debian packages of EdgeroofPackage.cmake):
#   runtime  the programs edgeroof, edgeroof-bench and edgeroof-probe (bin/) and the README
#            (share/doc/edgeroof/); the programs find each other in the folder they are in.
#   dev      the libraries a user links, with their headers: edgeroof::results (the results
#            contract), edgeroof::dnn_model (layers, zoo, FLOPs and bytes), edgeroof::power
#            (sensors, modes, the sweep) and edgeroof::analysis (fit, predict, tune, compare), and
#            edgeroof::config (edgeroof/config.hpp); edgeroofTargets.cmake, edgeroofConfig.cmake and
#            edgeroofConfigVersion.cmake in lib/cmake/edgeroof, for find_package(edgeroof CONFIG).
# The libraries are static and position-independent, so a shared library can link them; their
# private dependencies (nlohmann_json, Threads, and libonnx with protobuf when ONNX import is on)
# are found again by edgeroofConfig.cmake.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Programs installed with their CUDA libraries where the linker found them (/usr/local/cuda/...)
# outside the system folders keep that folder in their RPATH, so they start without an ldconfig
# entry. A value given on the command line wins.
if(NOT DEFINED CMAKE_INSTALL_RPATH_USE_LINK_PATH)
  set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)
endif()

# edgeroof/config.hpp: the switches of this build (0 or 1) and the version, for every header that
# depends on them; edgeroof::config carries it, in the build tree and in an install.
foreach(feature CUDA CUDNN ONEDNN ONNX)
  if(EDGEROOF_HAVE_${feature})
    set(EDGEROOF_HAVE_${feature}_01 1)
  else()
    set(EDGEROOF_HAVE_${feature}_01 0)
  endif()
endforeach()
set(EDGEROOF_GENERATED_INCLUDE_DIR ${PROJECT_BINARY_DIR}/generated/include)
configure_file(${CMAKE_CURRENT_LIST_DIR}/templates/config.hpp.in ${EDGEROOF_GENERATED_INCLUDE_DIR}/edgeroof/config.hpp
               @ONLY)
add_library(edgeroof_config INTERFACE)
add_library(edgeroof::config ALIAS edgeroof_config)
set_target_properties(edgeroof_config PROPERTIES EXPORT_NAME config)
target_include_directories(edgeroof_config INTERFACE $<BUILD_INTERFACE:${EDGEROOF_GENERATED_INCLUDE_DIR}>
                                                     $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# The rules, once every room's targets exist.
function(edgeroof_install_rules)
  set(programs edgeroof edgeroof-bench)
  if(TARGET edgeroof-probe)
    list(APPEND programs edgeroof-probe)
  endif()
  install(TARGETS ${programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

  # A library's public headers are its include/ folder, installed as it is.
  set(libraries config)
  foreach(room results dnn_model power analysis)
    get_target_property(include_dirs edgeroof_${room} INTERFACE_INCLUDE_DIRECTORIES)
    string(REGEX MATCH "\\$<BUILD_INTERFACE:([^>]+)>" _ "${include_dirs}")
    if(NOT CMAKE_MATCH_1)
      message(FATAL_ERROR "edgeroof_install_rules: edgeroof_${room} has no build-tree include folder")
    endif()
    install(DIRECTORY ${CMAKE_MATCH_1}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev
            FILES_MATCHING PATTERN "*.hpp")
    set_target_properties(edgeroof_${room} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    list(APPEND libraries ${room})
  endforeach()
  list(TRANSFORM libraries PREPEND edgeroof_)
  install(TARGETS ${libraries} EXPORT edgeroofTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(FILES ${EDGEROOF_GENERATED_INCLUDE_DIR}/edgeroof/config.hpp
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgeroof COMPONENT dev)

  set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/edgeroof)
  install(EXPORT edgeroofTargets NAMESPACE edgeroof:: DESTINATION ${cmake_dir} COMPONENT dev)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/templates/edgeroofConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/edgeroofConfig.cmake INSTALL_DESTINATION ${cmake_dir})
  # 0.x: a minor release may change the interface, so only the same major.minor is compatible.
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/edgeroofConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/edgeroofConfig.cmake ${PROJECT_BINARY_DIR}/edgeroofConfigVersion.cmake
          DESTINATION ${cmake_dir} COMPONENT dev)
endfunction()
