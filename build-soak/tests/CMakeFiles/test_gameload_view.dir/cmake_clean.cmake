file(REMOVE_RECURSE
  "CMakeFiles/test_gameload_view.dir/__/bench/gameload/view.c.o"
  "CMakeFiles/test_gameload_view.dir/__/bench/gameload/view.c.o.d"
  "CMakeFiles/test_gameload_view.dir/unit/test_gameload_view.c.o"
  "CMakeFiles/test_gameload_view.dir/unit/test_gameload_view.c.o.d"
  "test_gameload_view"
  "test_gameload_view.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_gameload_view.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
