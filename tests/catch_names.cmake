# CTest: every Catch2 test name survives catch_discover_tests (see
# tests/scripts/check_catch_names.cmake). Included by tests/CMakeLists.txt.
add_test(NAME catch.test_names_are_ctest_safe
         COMMAND ${CMAKE_COMMAND} -DTEST_BINARY=$<TARGET_FILE:kiln_tests>
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_catch_names.cmake)
set_tests_properties(catch.test_names_are_ctest_safe PROPERTIES LABELS "meta" TIMEOUT 60)
