file(REMOVE_RECURSE
  "CMakeFiles/test_briscola.dir/unit/test_briscola.c.o"
  "CMakeFiles/test_briscola.dir/unit/test_briscola.c.o.d"
  "test_briscola"
  "test_briscola.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_briscola.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
