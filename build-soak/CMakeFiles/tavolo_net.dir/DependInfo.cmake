
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/net/addr.c" "CMakeFiles/tavolo_net.dir/src/net/addr.c.o" "gcc" "CMakeFiles/tavolo_net.dir/src/net/addr.c.o.d"
  "/work/main/src/net/admit.c" "CMakeFiles/tavolo_net.dir/src/net/admit.c.o" "gcc" "CMakeFiles/tavolo_net.dir/src/net/admit.c.o.d"
  "/work/main/src/net/ban.c" "CMakeFiles/tavolo_net.dir/src/net/ban.c.o" "gcc" "CMakeFiles/tavolo_net.dir/src/net/ban.c.o.d"
  "/work/main/src/net/conn.c" "CMakeFiles/tavolo_net.dir/src/net/conn.c.o" "gcc" "CMakeFiles/tavolo_net.dir/src/net/conn.c.o.d"
  "/work/main/src/net/connrate.c" "CMakeFiles/tavolo_net.dir/src/net/connrate.c.o" "gcc" "CMakeFiles/tavolo_net.dir/src/net/connrate.c.o.d"
  "/work/main/src/net/listen.c" "CMakeFiles/tavolo_net.dir/src/net/listen.c.o" "gcc" "CMakeFiles/tavolo_net.dir/src/net/listen.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-soak/CMakeFiles/tavolo_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
