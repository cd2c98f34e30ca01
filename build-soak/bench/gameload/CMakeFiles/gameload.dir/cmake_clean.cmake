file(REMOVE_RECURSE
  "CMakeFiles/gameload.dir/gameload.c.o"
  "CMakeFiles/gameload.dir/gameload.c.o.d"
  "CMakeFiles/gameload.dir/probe.c.o"
  "CMakeFiles/gameload.dir/probe.c.o.d"
  "CMakeFiles/gameload.dir/view.c.o"
  "CMakeFiles/gameload.dir/view.c.o.d"
  "gameload"
  "gameload.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/gameload.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
