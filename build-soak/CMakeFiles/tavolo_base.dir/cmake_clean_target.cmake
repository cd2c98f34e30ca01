file(REMOVE_RECURSE
  "libtavolo_base.a"
)
