# fuzz.cmake: the libFuzzer harnesses (included by the top-level CMakeLists.txt).
# - With -DERASE_FUZZ=ON (a clang build: scripts/fuzz.sh build): every tests/fuzz/fuzz_NAME.c
#   becomes the executable fuzz_NAME (with common.c, against the library built with
#   -fsanitize=fuzzer-no-link,address,undefined); `fuzz_all` builds them all, and
#   fuzz_targets.txt lists them for scripts/fuzz.sh ("NAME ci" or "NAME manual").
# - In any other build with tests, when clang can link a libFuzzer program: the ctest test
#   `fuzz` (label fuzz) runs `scripts/fuzz.sh ci`: builds the harnesses in <build>/fuzz, replays
#   every corpus (crash reproducers included) and fuzzes each ci target for
#   ERASE_FUZZ_SECONDS (20) seconds; it fails when any target crashes or an oracle fails.
# Targets run by hand only (not in CI or the campaign): h5_raw, HDF5's own parser on raw bytes
# (it crashes inside HDF5: tests/fuzz/known/h5_raw); ckpt_read until the checkpoint reader's
# bugs it found are fixed (tests/fuzz/known/ckpt_read: reproducers and a suggested patch).
set(ER_FUZZ_MANUAL h5_raw ckpt_read)

if(ERASE_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ERASE_FUZZ needs clang (libFuzzer): -DCMAKE_C_COMPILER=clang")
  endif()
  file(GLOB ER_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fuzz_*.c)
  set(ER_FUZZ_LIST "")
  set(ER_FUZZ_TARGETS "")
  foreach(src ${ER_FUZZ_SOURCES})
    get_filename_component(exe ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" name ${exe})
    add_executable(${exe} ${src} ${CMAKE_CURRENT_LIST_DIR}/common.c)
    target_link_libraries(${exe} PRIVATE erase)
    target_include_directories(${exe} PRIVATE ${CMAKE_SOURCE_DIR}/src) # private headers
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    list(APPEND ER_FUZZ_TARGETS ${exe})
    if(name IN_LIST ER_FUZZ_MANUAL)
      string(APPEND ER_FUZZ_LIST "${name} manual\n")
    else()
      string(APPEND ER_FUZZ_LIST "${name} ci\n")
    endif()
  endforeach()
  add_custom_target(fuzz_all DEPENDS ${ER_FUZZ_TARGETS})
  file(WRITE ${CMAKE_BINARY_DIR}/fuzz_targets.txt "${ER_FUZZ_LIST}")
elseif(BUILD_TESTING)
  find_program(ER_FUZZ_CC NAMES clang clang-14)
  set(ER_FUZZ_OK FALSE)
  if(ER_FUZZ_CC)
    set(probe ${CMAKE_BINARY_DIR}/CMakeFiles/fuzz_probe)
    file(WRITE ${probe}.c "#include <stddef.h>\n#include <stdint.h>\n"
         "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (int)(d && n > 9); }\n")
    execute_process(COMMAND ${ER_FUZZ_CC} -fsanitize=fuzzer,address,undefined ${probe}.c
                    -o ${probe} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(ER_FUZZ_OK TRUE)
    endif()
  endif()
  if(ER_FUZZ_OK)
    add_test(NAME fuzz COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh ci)
    set_tests_properties(fuzz PROPERTIES LABELS fuzz TIMEOUT 1800 PROCESSORS 2
      ENVIRONMENT "ERASE_FUZZ_BUILD=${CMAKE_BINARY_DIR}/fuzz;ERASE_FUZZ_CC=${ER_FUZZ_CC}")
  else()
    message(STATUS "clang with libFuzzer not found: no fuzz test")
  endif()
endif()
