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
