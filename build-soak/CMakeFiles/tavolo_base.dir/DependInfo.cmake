
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/base/bucket.c" "CMakeFiles/tavolo_base.dir/src/base/bucket.c.o" "gcc" "CMakeFiles/tavolo_base.dir/src/base/bucket.c.o.d"
  "/work/main/src/base/log.c" "CMakeFiles/tavolo_base.dir/src/base/log.c.o" "gcc" "CMakeFiles/tavolo_base.dir/src/base/log.c.o.d"
  "/work/main/src/base/mem.c" "CMakeFiles/tavolo_base.dir/src/base/mem.c.o" "gcc" "CMakeFiles/tavolo_base.dir/src/base/mem.c.o.d"
  "/work/main/src/base/rnd.c" "CMakeFiles/tavolo_base.dir/src/base/rnd.c.o" "gcc" "CMakeFiles/tavolo_base.dir/src/base/rnd.c.o.d"
  "/work/main/src/base/strmap.c" "CMakeFiles/tavolo_base.dir/src/base/strmap.c.o" "gcc" "CMakeFiles/tavolo_base.dir/src/base/strmap.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
