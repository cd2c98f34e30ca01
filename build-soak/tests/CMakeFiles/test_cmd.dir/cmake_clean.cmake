file(REMOVE_RECURSE
  "CMakeFiles/test_cmd.dir/unit/test_cmd.c.o"
  "CMakeFiles/test_cmd.dir/unit/test_cmd.c.o.d"
  "test_cmd"
  "test_cmd.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_cmd.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
