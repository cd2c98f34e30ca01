file(REMOVE_RECURSE
  "CMakeFiles/test_scopa.dir/unit/test_scopa.c.o"
  "CMakeFiles/test_scopa.dir/unit/test_scopa.c.o.d"
  "test_scopa"
  "test_scopa.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_scopa.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
