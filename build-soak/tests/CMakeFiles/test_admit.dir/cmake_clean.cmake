file(REMOVE_RECURSE
  "CMakeFiles/test_admit.dir/unit/test_admit.c.o"
  "CMakeFiles/test_admit.dir/unit/test_admit.c.o.d"
  "test_admit"
  "test_admit.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_admit.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
