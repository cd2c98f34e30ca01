file(REMOVE_RECURSE
  "CMakeFiles/fuzzcorpus_session.dir/fuzz/fuzz_session.c.o"
  "CMakeFiles/fuzzcorpus_session.dir/fuzz/fuzz_session.c.o.d"
  "CMakeFiles/fuzzcorpus_session.dir/fuzz/standalone.c.o"
  "CMakeFiles/fuzzcorpus_session.dir/fuzz/standalone.c.o.d"
  "fuzzcorpus_session"
  "fuzzcorpus_session.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzzcorpus_session.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
