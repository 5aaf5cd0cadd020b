# fuzz.cmake: the libFuzzer harnesses (included by the top-level CMakeLists.txt).
# - With -DERASE_FUZZ=ON (a clang build: scripts/fuzz.sh build): every tests/fuzz/fuzz_NAME.c
#   becomes the executable fuzz_NAME (with common.c, against the library built with
#   -fsanitize=fuzzer-no-link,address,undefined); `fuzz_all` builds them all, and
#   fuzz_targets.txt lists them for scripts/fuzz.sh ("NAME ci" or "NAME manual").
# - In any other build with tests: the ctest tests of label fuzz. fuzz_build builds the
#   harnesses in <build>/fuzz (scripts/fuzz.sh ci-build); fuzz_NAME, one per ci target, replays
#   its corpus (crash reproducers included) and fuzzes it for a few seconds (fuzz.sh ci-run);
#   each fails when the target crashes or an oracle fails, and skips (exit 77, a SKIP line)
#   only when clang cannot link a libFuzzer program.
# Targets run by hand only (not in CI or the campaign): h5_raw, HDF5's own parser on raw bytes
# (it crashes inside HDF5: tests/fuzz/known/h5_raw).
set(ER_FUZZ_MANUAL h5_raw)

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
  # label fuzz: fuzz_build (a fixture) builds the harnesses with clang in <build>/fuzz, then
  # each fuzz_NAME replays corpus/NAME and fuzzes it ERASE_FUZZ_SECONDS (5) seconds. Without
  # clang's libFuzzer each prints a SKIP line and exits 77 (scripts/install-deps.sh installs it).
  find_program(ER_FUZZ_CC NAMES clang clang-14)
  set(ER_FUZZ_ENV "ERASE_FUZZ_BUILD=${CMAKE_BINARY_DIR}/fuzz;ERASE_FUZZ_CC=${ER_FUZZ_CC}"
      "ERASE_FUZZ_SECONDS=5")
  add_test(NAME fuzz_build COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh ci-build)
  set_tests_properties(fuzz_build PROPERTIES LABELS fuzz FIXTURES_SETUP fuzz TIMEOUT 1800
    PROCESSORS 2 SKIP_RETURN_CODE 77 ENVIRONMENT "${ER_FUZZ_ENV}")
  file(GLOB ER_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fuzz_*.c)
  foreach(src ${ER_FUZZ_SOURCES})
    get_filename_component(exe ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" name ${exe})
    if(NOT name IN_LIST ER_FUZZ_MANUAL)
      add_test(NAME ${exe} COMMAND bash ${CMAKE_SOURCE_DIR}/scripts/fuzz.sh ci-run ${name})
      set_tests_properties(${exe} PROPERTIES LABELS fuzz FIXTURES_REQUIRED fuzz TIMEOUT 300
        SKIP_RETURN_CODE 77 ENVIRONMENT "${ER_FUZZ_ENV}")
    endif()
  endforeach()
endif()
