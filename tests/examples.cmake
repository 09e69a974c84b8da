# Each example program writes exactly its checked-in graph file.
if(KILN_BUILD_EXAMPLES)
  foreach(m logreg mlp spiral moons)
    add_test(NAME examples.${m}_writes_its_graph
             COMMAND sh -c "$<TARGET_FILE:example_${m}> ${CMAKE_CURRENT_BINARY_DIR}/example_${m}.json > /dev/null && cmp ${CMAKE_CURRENT_BINARY_DIR}/example_${m}.json ${PROJECT_SOURCE_DIR}/examples/graphs/${m}.json")
  endforeach()
endif()
