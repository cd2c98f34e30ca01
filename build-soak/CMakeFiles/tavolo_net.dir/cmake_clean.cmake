file(REMOVE_RECURSE
  "CMakeFiles/tavolo_net.dir/src/net/addr.c.o"
  "CMakeFiles/tavolo_net.dir/src/net/addr.c.o.d"
  "CMakeFiles/tavolo_net.dir/src/net/admit.c.o"
  "CMakeFiles/tavolo_net.dir/src/net/admit.c.o.d"
  "CMakeFiles/tavolo_net.dir/src/net/ban.c.o"
  "CMakeFiles/tavolo_net.dir/src/net/ban.c.o.d"
  "CMakeFiles/tavolo_net.dir/src/net/conn.c.o"
  "CMakeFiles/tavolo_net.dir/src/net/conn.c.o.d"
  "CMakeFiles/tavolo_net.dir/src/net/connrate.c.o"
  "CMakeFiles/tavolo_net.dir/src/net/connrate.c.o.d"
  "CMakeFiles/tavolo_net.dir/src/net/listen.c.o"
  "CMakeFiles/tavolo_net.dir/src/net/listen.c.o.d"
  "libtavolo_net.a"
  "libtavolo_net.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo_net.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
