file(REMOVE_RECURSE
  "CMakeFiles/test_strmap.dir/unit/test_strmap.c.o"
  "CMakeFiles/test_strmap.dir/unit/test_strmap.c.o.d"
  "test_strmap"
  "test_strmap.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_strmap.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
