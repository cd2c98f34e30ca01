file(REMOVE_RECURSE
  "CMakeFiles/fuzzcorpus_ws.dir/fuzz/fuzz_ws.c.o"
  "CMakeFiles/fuzzcorpus_ws.dir/fuzz/fuzz_ws.c.o.d"
  "CMakeFiles/fuzzcorpus_ws.dir/fuzz/standalone.c.o"
  "CMakeFiles/fuzzcorpus_ws.dir/fuzz/standalone.c.o.d"
  "fuzzcorpus_ws"
  "fuzzcorpus_ws.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzzcorpus_ws.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
