# Cross-checks the .npy reader and writer (runtime/npy.cpp) against NumPy:
# tests/runtime/npy_numpy_check.py has NumPy write files, runs the hidden
# Catch test "[npy-numpy]" to read them and write others, then loads those
# with NumPy. The test reports SKIP (exit 77) where NumPy is not installed.
if(EXISTS /usr/bin/python3)
  add_test(NAME runtime.npy_numpy_cross_check
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/runtime/npy_numpy_check.py
                   $<TARGET_FILE:kiln_tests> ${CMAKE_CURRENT_BINARY_DIR}/npy_numpy_cross_check)
  set_tests_properties(runtime.npy_numpy_cross_check PROPERTIES SKIP_RETURN_CODE 77 LABELS runtime)
else()
  message(STATUS "kiln: /usr/bin/python3 not found, the NumPy .npy cross-check is not registered")
endif()
