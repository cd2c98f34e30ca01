file(REMOVE_RECURSE
  "CMakeFiles/tavolo.dir/src/app/main.c.o"
  "CMakeFiles/tavolo.dir/src/app/main.c.o.d"
  "tavolo"
  "tavolo.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
