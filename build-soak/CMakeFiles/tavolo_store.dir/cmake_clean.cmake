file(REMOVE_RECURSE
  "CMakeFiles/tavolo_store.dir/src/store/rating.c.o"
  "CMakeFiles/tavolo_store.dir/src/store/rating.c.o.d"
  "CMakeFiles/tavolo_store.dir/src/store/store.c.o"
  "CMakeFiles/tavolo_store.dir/src/store/store.c.o.d"
  "libtavolo_store.a"
  "libtavolo_store.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo_store.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
