# probe.cmake: tests for Adam (optim), the linear probe (eval) and label noise (labels).
# The Python references (torch for Adam, scikit-learn for the probe) run as ctest fixtures that
# write a file the C tests read; a missing Python module makes the file say SKIP (exit 77).
set(ER_PYTHON3 /usr/bin/python3)

if(EXISTS ${ER_PYTHON3})
  add_test(NAME adam_ref COMMAND ${ER_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/ref_adam.py
           ${CMAKE_CURRENT_BINARY_DIR}/adam_ref.bin)
  set_tests_properties(adam_ref PROPERTIES FIXTURES_SETUP adam_ref TIMEOUT 120
                       ENVIRONMENT "OMP_NUM_THREADS=1")
  er_add_mpi_test(test_adam test_adam.c RANKS 1 ARGS ${CMAKE_CURRENT_BINARY_DIR}/adam_ref.bin)
  set_tests_properties(test_adam_np1 PROPERTIES FIXTURES_REQUIRED adam_ref)
else()
  er_add_mpi_test(test_adam test_adam.c RANKS 1)
endif()

er_add_mpi_test(test_noise test_noise.c RANKS 1 2 4)

er_add_mpi_test(test_probe test_probe.c RANKS 1 2 4)
# scikit-learn comparison: same executable in --ref mode, registered by hand (distinct names).
if(EXISTS ${ER_PYTHON3})
  add_test(NAME probe_ref COMMAND ${ER_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/ref_probe.py
           ${CMAKE_CURRENT_BINARY_DIR}/probe_ref.bin)
  set_tests_properties(probe_ref PROPERTIES FIXTURES_SETUP probe_ref TIMEOUT 120
                       ENVIRONMENT "OMP_NUM_THREADS=1;OPENBLAS_NUM_THREADS=1")
  foreach(np 1 2 4)
    add_test(NAME test_probe_ref_np${np}
      COMMAND ${MPIEXEC_EXECUTABLE} -n ${np} --oversubscribe $<TARGET_FILE:test_probe>
              --ref ${CMAKE_CURRENT_BINARY_DIR}/probe_ref.bin
      WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(test_probe_ref_np${np} PROPERTIES ENVIRONMENT "${ER_TEST_ENV}"
      SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "mpi" PROCESSORS ${np}
      FIXTURES_REQUIRED probe_ref)
  endforeach()
endif()
