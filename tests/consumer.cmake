# CTest: install this build into a temporary prefix and build and run
# tests/consumer against it with find_package(kiln) and kiln::kiln.
# Included by tests/CMakeLists.txt.
add_test(NAME consumer.find_package
         COMMAND ${CMAKE_COMMAND}
                 -DKILN_BUILD=${PROJECT_BINARY_DIR}
                 -DCONSUMER_SOURCE=${CMAKE_CURRENT_SOURCE_DIR}/consumer
                 -DWORK=${CMAKE_CURRENT_BINARY_DIR}/consumer-work
                 -DCXX=${CMAKE_CXX_COMPILER}
                 -DBUILD_TYPE=$<CONFIG>
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer_test.cmake)
set_tests_properties(consumer.find_package PROPERTIES LABELS "consumer;install" TIMEOUT 600)
