file(REMOVE_RECURSE
  "CMakeFiles/test_deal.dir/unit/test_deal.c.o"
  "CMakeFiles/test_deal.dir/unit/test_deal.c.o.d"
  "test_deal"
  "test_deal.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_deal.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
