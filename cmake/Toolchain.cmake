# Compiler settings shared by every target: warnings, sanitizers, ccache.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

add_library(mailtrixy_warnings INTERFACE)
target_compile_options(mailtrixy_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
# -Wnull-dereference is left out: g++ 12 reports it falsely inside libstdc++ and Asio.
if(MAILTRIXY_WERROR)
  target_compile_options(mailtrixy_warnings INTERFACE -Werror)
endif()

if(MAILTRIXY_FUZZ)
  # Coverage instrumentation for every library the fuzz targets link; the targets themselves add
  # -fsanitize=fuzzer (mailtrixy_fuzz_target).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(MAILTRIXY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
