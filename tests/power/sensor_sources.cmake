# The power/ sources of the energy sensors, for the builds that compile them again with their own
# flags: the libFuzzer target (tests/fuzz) and the ThreadSanitizer test (tests/tsan).
set(edgeroof_sensor_sources
  ${PROJECT_SOURCE_DIR}/power/src/sysfs.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_factory.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_sampler.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_ina3221.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_nvml.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_rapl.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_none.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_composite.cpp
  ${PROJECT_SOURCE_DIR}/power/src/sensor_tegrastats.cpp)
