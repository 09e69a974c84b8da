# kiln grad on the seed example graphs against NumPy's hand-derived
# gradients (tests/passes/numpy_grad_reference.py), run by Debian's python3.
file(GLOB example_graphs ${PROJECT_SOURCE_DIR}/examples/graphs/*.json)
add_test(NAME grad.numpy_reference
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/passes/numpy_grad_reference.py
                 $<TARGET_FILE:kiln_cli> ${example_graphs})
set_tests_properties(grad.numpy_reference PROPERTIES SKIP_RETURN_CODE 77 LABELS numpy)
