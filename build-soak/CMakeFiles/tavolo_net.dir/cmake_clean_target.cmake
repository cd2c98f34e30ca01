file(REMOVE_RECURSE
  "libtavolo_net.a"
)
