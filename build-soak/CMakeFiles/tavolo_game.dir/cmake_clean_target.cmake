file(REMOVE_RECURSE
  "libtavolo_game.a"
)
