# mailtrixy_module(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# One static library per module. Public headers live in include/mailtrixy/NAME/.
# DEPS are the module's public dependencies (used in its headers); PRIVATE_DEPS stay inside.
function(mailtrixy_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(mailtrixy_${name} STATIC ${M_SOURCES})
  add_library(mailtrixy::${name} ALIAS mailtrixy_${name})
  target_include_directories(mailtrixy_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(mailtrixy_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS} mailtrixy_warnings)
endfunction()

# mailtrixy_unit_test(NAME SOURCES ... DEPS ...)
# A GoogleTest binary registered with ctest, one ctest entry per TEST().
function(mailtrixy_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main mailtrixy_warnings)
  # Test helpers shared across modules: #include "support/temp_dir.hpp".
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
endfunction()

# mailtrixy_fuzz_target(NAME SOURCES ... DEPS ...)
# A fuzz target: SOURCES define `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`.
# - With clang and -DMAILTRIXY_FUZZ=ON (`make fuzz`, scripts/fuzz.sh): a libFuzzer binary fuzz_NAME.
# - Otherwise: the same entry point linked with tests/fuzz/replay_main.cpp; ctest runs it as
#   fuzz.NAME.replay over every file of tests/fuzz/corpus/NAME/ (the kept corpus) and
#   tests/fuzz/regressions/NAME/ (every crash ever found, once fixed), so each build of
#   `make test` (including ASan+UBSan) replays them as regression tests.
function(mailtrixy_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  # regressions/NAME may not exist yet: the replayer skips a missing directory (so the first
  # crash file needs no re-run of cmake), but fails when it finds no input at all.
  set(inputs ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name} ${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${name})
  if(MAILTRIXY_FUZZ)
    add_executable(fuzz_${name} ${F_SOURCES})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} ${F_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    add_test(NAME fuzz.${name}.replay COMMAND fuzz_${name} ${inputs})
    set_tests_properties(fuzz.${name}.replay PROPERTIES LABELS fuzz TIMEOUT 300)
  endif()
  target_link_libraries(fuzz_${name} PRIVATE ${F_DEPS} mailtrixy_warnings)
endfunction()
