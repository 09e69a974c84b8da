# Fails when a Catch2 test name cannot travel through CTest: catch_discover_tests
# reads the names as a CMake list, so a ';' splits a name in two and an
# unbalanced '[' or ']' glues every following name into one bogus test that
# matches nothing and "passes" — silently dropping those tests from ctest.
#
#   cmake -DTEST_BINARY=.../kiln_tests -P check_catch_names.cmake
execute_process(COMMAND "${TEST_BINARY}" --list-test-names-only
                RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE err)
if(NOT rc EQUAL 0 AND output STREQUAL "")
  message(FATAL_ERROR "could not list the tests of ${TEST_BINARY} (${rc}): ${err}")
endif()

# Walk the lines by position: splitting into a CMake list would suffer from
# the very characters being looked for.
set(bad "")
set(count 0)
string(LENGTH "${output}" remaining)
while(remaining GREATER 0)
  string(FIND "${output}" "\n" eol)
  if(eol EQUAL -1)
    set(line "${output}")
    set(output "")
  else()
    string(SUBSTRING "${output}" 0 ${eol} line)
    math(EXPR next "${eol} + 1")
    string(SUBSTRING "${output}" ${next} -1 output)
  endif()
  string(LENGTH "${output}" remaining)
  if(line MATCHES "[][;]")
    string(APPEND bad "\n  ${line}")
    math(EXPR count "${count} + 1")
  endif()
endwhile()

if(count GREATER 0)
  message(FATAL_ERROR "${count} test name(s) contain '[', ']' or ';', which CTest cannot register "
                      "(the tests after them vanish from ctest); reword them:${bad}")
endif()
message(STATUS "every test name is safe for CTest")
