# tandem_test(NAME SOURCES... LIBS ...): one GoogleTest binary registered with CTest.
# Tests run from the build tree; TANDEM_SOURCE_DIR points them at configs and fixtures.
function(tandem_test name)
  if(NOT TANDEM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main tandem_warnings)
  target_compile_definitions(${name} PRIVATE TANDEM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()

# tandem_benchmark(NAME SOURCES... LIBS ...): one Google Benchmark binary (not run by CTest).
function(tandem_benchmark name)
  if(NOT TANDEM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} benchmark::benchmark_main tandem_warnings)
endfunction()

# tandem_registering_library(TARGET): TARGET holds files that register themselves by name
# (TANDEM_REGISTER in common/registry.h: envs, acting policies, selectors, algorithms). Nothing
# references those files' symbols, so a plain static link would drop them; every binary that
# links TARGET links all of its objects instead (one group, de-duplicated by CMake).
function(tandem_registering_library target)
  target_link_options(${target} INTERFACE
    "SHELL:-Wl,--whole-archive $<TARGET_FILE:${target}> -Wl,--no-whole-archive")
endfunction()
