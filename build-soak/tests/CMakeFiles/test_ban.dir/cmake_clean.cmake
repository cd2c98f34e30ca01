file(REMOVE_RECURSE
  "CMakeFiles/test_ban.dir/unit/test_ban.c.o"
  "CMakeFiles/test_ban.dir/unit/test_ban.c.o.d"
  "test_ban"
  "test_ban.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_ban.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
