# The installed package: prefix layout, Lmod module, man page, presets, jobs/ (issue: packaging).
er_add_sh_test(test_install test_install.sh)
set_property(TEST test_install APPEND PROPERTY ENVIRONMENT
  "ER_MKFIXTURE=$<TARGET_FILE:mkfixture>" "ER_BUILD_DIR=${CMAKE_BINARY_DIR}")
