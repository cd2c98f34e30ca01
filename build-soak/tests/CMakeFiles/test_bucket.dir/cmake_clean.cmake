file(REMOVE_RECURSE
  "CMakeFiles/test_bucket.dir/unit/test_bucket.c.o"
  "CMakeFiles/test_bucket.dir/unit/test_bucket.c.o.d"
  "test_bucket"
  "test_bucket.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_bucket.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
