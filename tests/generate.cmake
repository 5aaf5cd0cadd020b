# generate: generator tests (tests/test_generate.sh MODE):
#   generate_ranks           CSBM: same datasets at 1, 2, 3 and 4 ranks; another seed differs
#   generate_structure       CSBM: CSR symmetric/sorted/simple, degree, homophily, classes,
#                            splits, features
#   generate_hsbm_ranks      HSBM: same datasets at 1, 2 and 3 ranks; another seed differs
#   generate_hsbm_structure  HSBM: the above, plus the tree (leaf sizes, classes per leaf), edge
#                            levels against R^l (1 - R), homophily per level, splits spread
#   generate_errors          bad options: one error line, every rank non-zero, no file left
foreach(mode ranks structure hsbm_ranks hsbm_structure errors)
  add_test(NAME generate_${mode} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_generate.sh ${mode}
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(generate_${mode} PROPERTIES ENVIRONMENT "${ER_TEST_ENV}"
    SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS "sh;generate")
endforeach()
