# CTest: scripts/setup.sh against stand-ins for apt-get, dpkg-query, sudo
# and id (tests/scripts/setup_test.sh). Included by tests/CMakeLists.txt.
find_program(KILN_BASH bash)
if(KILN_BASH)
  add_test(NAME scripts.setup
           COMMAND ${KILN_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/setup_test.sh ${PROJECT_SOURCE_DIR}/scripts/setup.sh)
  set_tests_properties(scripts.setup PROPERTIES LABELS "scripts" TIMEOUT 60)
endif()
