file(REMOVE_RECURSE
  "libtavolo_app.a"
)
