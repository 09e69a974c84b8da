# ONNX import (frontends/onnx/) against PyTorch and against hostile files,
# run by Debian's python3 with python3-torch and python3-onnx (scripts/setup.sh
# test installs both). A kiln built without ONNX import reports both as
# skipped, with the reason.
if(NOT KILN_ONNX_FOUND)
  foreach(name onnx.torch_reference onnx.hostile_models)
    add_test(NAME ${name} COMMAND sh -c "echo '${name} skipped: kiln is built without ONNX import (KILN_WITH_ONNX)'; exit 77")
    set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS onnx)
  endforeach()
  return()
endif()
add_test(NAME onnx.torch_reference
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/frontends/onnx/torch_reference.py
                 $<TARGET_FILE:kiln_cli> ${PROJECT_BINARY_DIR}/python)
add_test(NAME onnx.hostile_models
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/frontends/onnx/hostile_models.py $<TARGET_FILE:kiln_cli>)
set_tests_properties(onnx.torch_reference onnx.hostile_models PROPERTIES
                     SKIP_RETURN_CODE 77 LABELS onnx TIMEOUT 300
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;XDG_CACHE_HOME=${CMAKE_CURRENT_BINARY_DIR}/xdg-cache")
