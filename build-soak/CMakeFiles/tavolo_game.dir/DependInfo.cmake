
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/game/briscola.c" "CMakeFiles/tavolo_game.dir/src/game/briscola.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/briscola.c.o.d"
  "/work/main/src/game/card.c" "CMakeFiles/tavolo_game.dir/src/game/card.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/card.c.o.d"
  "/work/main/src/game/deal.c" "CMakeFiles/tavolo_game.dir/src/game/deal.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/deal.c.o.d"
  "/work/main/src/game/deck.c" "CMakeFiles/tavolo_game.dir/src/game/deck.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/deck.c.o.d"
  "/work/main/src/game/games.c" "CMakeFiles/tavolo_game.dir/src/game/games.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/games.c.o.d"
  "/work/main/src/game/hearts.c" "CMakeFiles/tavolo_game.dir/src/game/hearts.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/hearts.c.o.d"
  "/work/main/src/game/lobby.c" "CMakeFiles/tavolo_game.dir/src/game/lobby.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/lobby.c.o.d"
  "/work/main/src/game/match.c" "CMakeFiles/tavolo_game.dir/src/game/match.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/match.c.o.d"
  "/work/main/src/game/scopa.c" "CMakeFiles/tavolo_game.dir/src/game/scopa.c.o" "gcc" "CMakeFiles/tavolo_game.dir/src/game/scopa.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-soak/CMakeFiles/tavolo_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
