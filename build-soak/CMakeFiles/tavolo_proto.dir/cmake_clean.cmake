file(REMOVE_RECURSE
  "CMakeFiles/tavolo_proto.dir/src/proto/cmd.c.o"
  "CMakeFiles/tavolo_proto.dir/src/proto/cmd.c.o.d"
  "CMakeFiles/tavolo_proto.dir/src/proto/http.c.o"
  "CMakeFiles/tavolo_proto.dir/src/proto/http.c.o.d"
  "CMakeFiles/tavolo_proto.dir/src/proto/line.c.o"
  "CMakeFiles/tavolo_proto.dir/src/proto/line.c.o.d"
  "CMakeFiles/tavolo_proto.dir/src/proto/ws.c.o"
  "CMakeFiles/tavolo_proto.dir/src/proto/ws.c.o.d"
  "libtavolo_proto.a"
  "libtavolo_proto.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo_proto.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
