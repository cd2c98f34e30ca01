file(REMOVE_RECURSE
  "CMakeFiles/test_hearts.dir/unit/test_hearts.c.o"
  "CMakeFiles/test_hearts.dir/unit/test_hearts.c.o.d"
  "test_hearts"
  "test_hearts.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_hearts.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
