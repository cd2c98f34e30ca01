file(REMOVE_RECURSE
  "CMakeFiles/fuzzcorpus_ban.dir/fuzz/fuzz_ban.c.o"
  "CMakeFiles/fuzzcorpus_ban.dir/fuzz/fuzz_ban.c.o.d"
  "CMakeFiles/fuzzcorpus_ban.dir/fuzz/standalone.c.o"
  "CMakeFiles/fuzzcorpus_ban.dir/fuzz/standalone.c.o.d"
  "fuzzcorpus_ban"
  "fuzzcorpus_ban.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzzcorpus_ban.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
