file(REMOVE_RECURSE
  "CMakeFiles/tavolo_app.dir/src/app/auth.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/auth.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/config.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/config.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/metrics.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/metrics.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/outbox.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/outbox.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/sdnotify.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/sdnotify.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/server.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/server.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/session.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/session.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/session_http.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/session_http.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/verbs_match.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/verbs_match.c.o.d"
  "CMakeFiles/tavolo_app.dir/src/app/verbs_records.c.o"
  "CMakeFiles/tavolo_app.dir/src/app/verbs_records.c.o.d"
  "CMakeFiles/tavolo_app.dir/web_assets.c.o"
  "CMakeFiles/tavolo_app.dir/web_assets.c.o.d"
  "libtavolo_app.a"
  "libtavolo_app.pdb"
  "web_assets.c"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/tavolo_app.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
