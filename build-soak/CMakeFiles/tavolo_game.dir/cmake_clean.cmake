file(REMOVE_RECURSE
  "CMakeFiles/tavolo_game.dir/src/game/briscola.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/briscola.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/card.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/card.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/deal.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/deal.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/deck.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/deck.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/games.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/games.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/hearts.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/hearts.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/lobby.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/lobby.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/match.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/match.c.o.d"
  "CMakeFiles/tavolo_game.dir/src/game/scopa.c.o"
  "CMakeFiles/tavolo_game.dir/src/game/scopa.c.o.d"
  "libtavolo_game.a"
  "libtavolo_game.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo_game.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
