file(REMOVE_RECURSE
  "libtavolo_store.a"
)
