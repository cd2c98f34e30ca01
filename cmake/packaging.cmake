# Packaging: libsystemd (readiness and socket activation, src/app/sdnotify.c),
# the install rules behind `make install` and debian/, and their tests.
# Included from the top-level CMakeLists.txt once tavolo_app is defined
# (the tavolo target is referred to by generator expressions only).
#
#   -DTAVOLO_SYSTEMD=AUTO|ON|OFF    use libsystemd if found / require it / never
#   -DTAVOLO_SYSTEMD_UNITDIR=DIR    where the units go (default lib/systemd/system
#                                   under the prefix; debian/rules: /lib/systemd/system)

# ---------- libsystemd ----------
set(TAVOLO_SYSTEMD AUTO CACHE STRING
    "libsystemd for sd_notify and socket activation: AUTO, ON or OFF")
set_property(CACHE TAVOLO_SYSTEMD PROPERTY STRINGS AUTO ON OFF)
target_sources(tavolo_app PRIVATE src/app/sdnotify.c)
if(TAVOLO_SYSTEMD STREQUAL "ON")
  pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
elseif(NOT TAVOLO_SYSTEMD STREQUAL "OFF")
  pkg_check_modules(SYSTEMD QUIET IMPORTED_TARGET libsystemd)
endif()
if(SYSTEMD_FOUND)
  message(STATUS "libsystemd ${SYSTEMD_VERSION}: readiness (Type=notify) and socket activation built in")
  set_property(SOURCE src/app/sdnotify.c APPEND PROPERTY COMPILE_DEFINITIONS
               TAVOLO_HAVE_SYSTEMD)
  target_link_libraries(tavolo_app PRIVATE PkgConfig::SYSTEMD)
else()
  message(STATUS "libsystemd not used (TAVOLO_SYSTEMD=${TAVOLO_SYSTEMD}; "
                 "Debian: libsystemd-dev): building without readiness "
                 "notification and socket activation; the installed unit "
                 "gets Type=exec and no tavolo.socket")
endif()

# ---------- install ----------
# The binary goes to sbin: tavolo is a daemon that the service manager
# starts, and its other uses (--check-data, --backup) are an
# administrator's; its manual is in section 8 (FHS: /usr/sbin holds
# non-essential system administration binaries, as for sshd or nginx).
include(GNUInstallDirs)
set(TAVOLO_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "where the systemd units are installed (relative: under the prefix)")
# PROGRAMS with a generator expression: this file is included before the
# tavolo target is defined.
install(PROGRAMS $<TARGET_FILE:tavolo> DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES docs/tavolo.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES packaging/tavolo.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME tavolo.conf.example)
install(FILES docs/OPERATIONS.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The units in packaging/ name the Debian paths (/usr/sbin/tavolo,
# /etc/tavolo/tavolo.conf). They are rewritten at install time for the
# prefix in force then (`cmake --install --prefix` may differ from the
# configured one): sbin under the prefix; sysconfdir /etc for the /usr
# prefix, PREFIX/etc otherwise (as GNUInstallDirs does).
install(CODE "
  set(_p \"\${CMAKE_INSTALL_PREFIX}\")
  if(IS_ABSOLUTE \"${CMAKE_INSTALL_SBINDIR}\")
    set(_sbin \"${CMAKE_INSTALL_SBINDIR}\")
  else()
    set(_sbin \"\${_p}/${CMAKE_INSTALL_SBINDIR}\")
  endif()
  if(_p STREQUAL \"/usr\" OR _p STREQUAL \"/\")
    set(_etc /etc)
  else()
    set(_etc \"\${_p}/etc\")
  endif()
  if(IS_ABSOLUTE \"${TAVOLO_SYSTEMD_UNITDIR}\")
    set(_units \"${TAVOLO_SYSTEMD_UNITDIR}\")
  else()
    set(_units \"\${_p}/${TAVOLO_SYSTEMD_UNITDIR}\")
  endif()
  file(READ \"${CMAKE_SOURCE_DIR}/packaging/tavolo.service\" _unit)
  string(REPLACE \"/usr/sbin/tavolo\" \"\${_sbin}/tavolo\" _unit \"\${_unit}\")
  string(REPLACE \"/etc/tavolo/\" \"\${_etc}/tavolo/\" _unit \"\${_unit}\")
  if(NOT \"${SYSTEMD_FOUND}\")
    string(REPLACE \"Type=notify\" \"Type=exec\" _unit \"\${_unit}\")
  endif()
  # (Written in the build tree, like install_manifest.txt: one install of
  # a build tree at a time; the tests take a RESOURCE_LOCK for that.)
  file(MAKE_DIRECTORY \"${CMAKE_BINARY_DIR}/packaging\")
  file(WRITE \"${CMAKE_BINARY_DIR}/packaging/tavolo.service\" \"\${_unit}\")
  file(INSTALL \"${CMAKE_BINARY_DIR}/packaging/tavolo.service\"
       DESTINATION \"\${_units}\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  if(\"${SYSTEMD_FOUND}\")
    file(INSTALL \"${CMAKE_SOURCE_DIR}/packaging/tavolo.socket\"
         DESTINATION \"\${_units}\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
")

# ---------- tests ----------
# Registered only where their tools exist (and unless TAVOLO_TESTS, where
# the build has that switch, is OFF); each takes a few seconds.
if(DEFINED TAVOLO_TESTS AND NOT TAVOLO_TESTS)
  return()
endif()
add_test(NAME pkg_install
         COMMAND sh ${CMAKE_SOURCE_DIR}/tests/packaging/check_install.sh
                 ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${SYSTEMD_FOUND})
# install_manifest.txt is one file per build tree: one install at a time.
set_tests_properties(pkg_install PROPERTIES RESOURCE_LOCK tavolo_install)
find_program(MAN_EXECUTABLE man)
if(MAN_EXECUTABLE)
  add_test(NAME pkg_man
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/packaging/check_man.sh
                   ${CMAKE_SOURCE_DIR}/docs/tavolo.8)
endif()
find_program(SYSTEMD_ANALYZE_EXECUTABLE systemd-analyze)
if(SYSTEMD_ANALYZE_EXECUTABLE)
  add_test(NAME pkg_unit_verify
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/packaging/check_units.sh
                   ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(pkg_unit_verify PROPERTIES RESOURCE_LOCK tavolo_install)
endif()
if(SYSTEMD_FOUND)
  find_package(Python3 COMPONENTS Interpreter)
  if(Python3_FOUND)
    add_test(NAME it_systemd
             COMMAND ${Python3_EXECUTABLE}
                     ${CMAKE_SOURCE_DIR}/tests/packaging/test_systemd.py)
    set_tests_properties(it_systemd PROPERTIES
      ENVIRONMENT "TAVOLO_BIN=$<TARGET_FILE:tavolo>;PYTHONDONTWRITEBYTECODE=1"
      TIMEOUT 120)
  endif()
endif()
