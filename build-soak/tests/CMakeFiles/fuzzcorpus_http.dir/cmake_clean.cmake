file(REMOVE_RECURSE
  "CMakeFiles/fuzzcorpus_http.dir/fuzz/fuzz_http.c.o"
  "CMakeFiles/fuzzcorpus_http.dir/fuzz/fuzz_http.c.o.d"
  "CMakeFiles/fuzzcorpus_http.dir/fuzz/standalone.c.o"
  "CMakeFiles/fuzzcorpus_http.dir/fuzz/standalone.c.o.d"
  "fuzzcorpus_http"
  "fuzzcorpus_http.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fuzzcorpus_http.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
