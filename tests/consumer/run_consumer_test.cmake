# Installs the kiln build into a fresh prefix, then configures, builds and
# runs tests/consumer against that prefix alone.
#
#   cmake -DKILN_BUILD=... -DCONSUMER_SOURCE=... -DWORK=... -DCXX=... -DBUILD_TYPE=... -P run_consumer_test.cmake
foreach(var KILN_BUILD CONSUMER_SOURCE WORK CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer_test.cmake needs -D${var}=...")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK}")
set(prefix "${WORK}/prefix")

step("cmake --install into ${prefix}" ${CMAKE_COMMAND} --install "${KILN_BUILD}" --prefix "${prefix}" --config ${BUILD_TYPE})
foreach(expected include/kiln/kiln.hpp include/kiln/graph/ops.def lib/cmake/kiln/kilnConfig.cmake bin/kiln)
  if(NOT EXISTS "${prefix}/${expected}")
    message(FATAL_ERROR "consumer test: the install lacks ${expected}")
  endif()
endforeach()

# Only the prefix is searched for kiln: a stale package registry entry or the
# build tree cannot stand in for the install.
step("configuring the consumer" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE}" -B "${WORK}/build"
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER=${CXX}
     -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
step("building the consumer" ${CMAKE_COMMAND} --build "${WORK}/build" --config ${BUILD_TYPE})

find_program(consumer NAMES consumer PATHS "${WORK}/build" "${WORK}/build/${BUILD_TYPE}" NO_DEFAULT_PATH)
if(NOT consumer)
  message(FATAL_ERROR "consumer test: no consumer executable under ${WORK}/build")
endif()
step("running the consumer" "${consumer}")

# input x, labels y, two dense layers of W, b, matmul, add each, relu, loss.
set(expected_nodes 12)
if(NOT step_output STREQUAL "kiln consumer: ${expected_nodes} nodes\n")
  message(FATAL_ERROR "consumer test: expected 'kiln consumer: ${expected_nodes} nodes', got '${step_output}'")
endif()
message(STATUS "consumer test: built and ran against ${prefix}: ${step_output}")
file(REMOVE_RECURSE "${WORK}")
