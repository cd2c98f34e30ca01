file(REMOVE_RECURSE
  "CMakeFiles/test_connrate.dir/unit/test_connrate.c.o"
  "CMakeFiles/test_connrate.dir/unit/test_connrate.c.o.d"
  "test_connrate"
  "test_connrate.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_connrate.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
