file(REMOVE_RECURSE
  "CMakeFiles/test_line.dir/unit/test_line.c.o"
  "CMakeFiles/test_line.dir/unit/test_line.c.o.d"
  "test_line"
  "test_line.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_line.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
