# gqa_add_module(NAME DIR DEPS...): a static library of every .cc in DIR (not below it),
# except the programs' *_main.cc. One library per engine module keeps the layering
# visible in the link graph.
function(gqa_add_module name dir)
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "_main\\.cc$")
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARGN})
endfunction()

# gqa_add_tests(DIR LIBS...): one GoogleTest binary per *_test.cc in DIR.
# Tests find shared test data through GQA_SHARED_DIR (../shared beside the checkout).
# Each test is labelled DIR (`ctest -L '^server$'`), and the target tests_DIR
# ('/' as '_', e.g. tests_engine_serving) builds DIR's test binaries only: the
# sanitizer runs of .ci/run build and run such groups, not the whole tree.
function(gqa_add_tests dir)
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cc)
  string(REPLACE "/" "_" group tests_${dir})
  if(NOT TARGET ${group})
    add_custom_target(${group})
  endif()
  foreach(test_src ${tests})
    get_filename_component(test_name ${test_src} NAME_WE)
    add_executable(${test_name} ${test_src})
    target_link_libraries(${test_name} PRIVATE ${ARGN} gqa_test_support GTest::gtest_main GTest::gmock)
    gtest_discover_tests(${test_name}
      PROPERTIES ENVIRONMENT "GQA_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared" LABELS ${dir}
      DISCOVERY_TIMEOUT 60)
    add_dependencies(${group} ${test_name})
  endforeach()
endfunction()
