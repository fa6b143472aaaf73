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
function(gqa_add_tests dir)
  file(GLOB tests CONFIGURE_DEPENDS ${dir}/*_test.cc)
  foreach(test_src ${tests})
    get_filename_component(test_name ${test_src} NAME_WE)
    add_executable(${test_name} ${test_src})
    target_link_libraries(${test_name} PRIVATE ${ARGN} gqa_test_support GTest::gtest_main GTest::gmock)
    gtest_discover_tests(${test_name}
      PROPERTIES ENVIRONMENT "GQA_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared"
      DISCOVERY_TIMEOUT 60)
  endforeach()
endfunction()
