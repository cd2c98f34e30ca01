
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/app/auth.c" "CMakeFiles/tavolo_app.dir/src/app/auth.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/auth.c.o.d"
  "/work/main/src/app/config.c" "CMakeFiles/tavolo_app.dir/src/app/config.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/config.c.o.d"
  "/work/main/src/app/metrics.c" "CMakeFiles/tavolo_app.dir/src/app/metrics.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/metrics.c.o.d"
  "/work/main/src/app/outbox.c" "CMakeFiles/tavolo_app.dir/src/app/outbox.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/outbox.c.o.d"
  "/work/main/src/app/sdnotify.c" "CMakeFiles/tavolo_app.dir/src/app/sdnotify.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/sdnotify.c.o.d"
  "/work/main/src/app/server.c" "CMakeFiles/tavolo_app.dir/src/app/server.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/server.c.o.d"
  "/work/main/src/app/session.c" "CMakeFiles/tavolo_app.dir/src/app/session.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/session.c.o.d"
  "/work/main/src/app/session_http.c" "CMakeFiles/tavolo_app.dir/src/app/session_http.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/session_http.c.o.d"
  "/work/main/src/app/verbs_match.c" "CMakeFiles/tavolo_app.dir/src/app/verbs_match.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/verbs_match.c.o.d"
  "/work/main/src/app/verbs_records.c" "CMakeFiles/tavolo_app.dir/src/app/verbs_records.c.o" "gcc" "CMakeFiles/tavolo_app.dir/src/app/verbs_records.c.o.d"
  "/work/main/build-soak/web_assets.c" "CMakeFiles/tavolo_app.dir/web_assets.c.o" "gcc" "CMakeFiles/tavolo_app.dir/web_assets.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-soak/CMakeFiles/tavolo_net.dir/DependInfo.cmake"
  "/work/main/build-soak/CMakeFiles/tavolo_proto.dir/DependInfo.cmake"
  "/work/main/build-soak/CMakeFiles/tavolo_game.dir/DependInfo.cmake"
  "/work/main/build-soak/CMakeFiles/tavolo_store.dir/DependInfo.cmake"
  "/work/main/build-soak/CMakeFiles/tavolo_base.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
