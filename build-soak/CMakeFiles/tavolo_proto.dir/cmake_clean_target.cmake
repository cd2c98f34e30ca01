file(REMOVE_RECURSE
  "libtavolo_proto.a"
)
