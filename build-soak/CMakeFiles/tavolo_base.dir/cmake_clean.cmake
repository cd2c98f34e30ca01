file(REMOVE_RECURSE
  "CMakeFiles/tavolo_base.dir/src/base/bucket.c.o"
  "CMakeFiles/tavolo_base.dir/src/base/bucket.c.o.d"
  "CMakeFiles/tavolo_base.dir/src/base/log.c.o"
  "CMakeFiles/tavolo_base.dir/src/base/log.c.o.d"
  "CMakeFiles/tavolo_base.dir/src/base/mem.c.o"
  "CMakeFiles/tavolo_base.dir/src/base/mem.c.o.d"
  "CMakeFiles/tavolo_base.dir/src/base/rnd.c.o"
  "CMakeFiles/tavolo_base.dir/src/base/rnd.c.o.d"
  "CMakeFiles/tavolo_base.dir/src/base/strmap.c.o"
  "CMakeFiles/tavolo_base.dir/src/base/strmap.c.o.d"
  "libtavolo_base.a"
  "libtavolo_base.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo_base.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
