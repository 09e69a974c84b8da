# CTest: the Python module's pytest suite (tests/python/), run by Debian's
# python3 against build/python. Included by tests/CMakeLists.txt. Where the
# module is not built (no pybind11, or the sanitizer build) or pytest is
# missing, the test is reported as skipped with the reason.
set(kiln_pytest_skip "")
if(NOT TARGET kiln_python)
  set(kiln_pytest_skip "the kiln Python module is not built here (KILN_BUILD_PYTHON off, no pybind11, or a sanitizer build)")
else()
  execute_process(COMMAND ${Python3_EXECUTABLE} -c "import pytest, numpy" RESULT_VARIABLE kiln_pytest_missing
                  OUTPUT_QUIET ERROR_QUIET)
  if(kiln_pytest_missing)
    set(kiln_pytest_skip "${Python3_EXECUTABLE} lacks pytest or numpy (Debian: python3-pytest python3-numpy)")
  endif()
endif()

if(kiln_pytest_skip)
  add_test(NAME python.pytest COMMAND sh -c "echo 'python.pytest skipped: ${kiln_pytest_skip}'; exit 77")
  set_tests_properties(python.pytest PROPERTIES SKIP_RETURN_CODE 77 LABELS python)
else()
  # Preloaded by test_allocations.py into a child interpreter only.
  add_library(kiln_allocation_shim SHARED ${CMAKE_CURRENT_SOURCE_DIR}/python/allocation_shim.cpp
              ${CMAKE_CURRENT_SOURCE_DIR}/alloc_hook/allocation_counter.cpp)
  add_test(NAME python.pytest
           COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/python)
  set_tests_properties(python.pytest PROPERTIES LABELS python TIMEOUT 300 ENVIRONMENT
                       "PYTHONPATH=${PROJECT_BINARY_DIR}/python;KILN_CLI=$<TARGET_FILE:kiln_cli>;PYTHONDONTWRITEBYTECODE=1;XDG_CACHE_HOME=${CMAKE_CURRENT_BINARY_DIR}/xdg-cache;KILN_ALLOCATION_SHIM=$<TARGET_FILE:kiln_allocation_shim>")
endif()
