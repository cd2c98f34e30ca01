# Install script for directory: /work/main

# Set the install prefix
if(NOT DEFINED CMAKE_INSTALL_PREFIX)
  set(CMAKE_INSTALL_PREFIX "/usr/local")
endif()
string(REGEX REPLACE "/$" "" CMAKE_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")

# Set the install configuration name.
if(NOT DEFINED CMAKE_INSTALL_CONFIG_NAME)
  if(BUILD_TYPE)
    string(REGEX REPLACE "^[^A-Za-z0-9_]+" ""
           CMAKE_INSTALL_CONFIG_NAME "${BUILD_TYPE}")
  else()
    set(CMAKE_INSTALL_CONFIG_NAME "RelWithDebInfo")
  endif()
  message(STATUS "Install configuration: \"${CMAKE_INSTALL_CONFIG_NAME}\"")
endif()

# Set the component getting installed.
if(NOT CMAKE_INSTALL_COMPONENT)
  if(COMPONENT)
    message(STATUS "Install component: \"${COMPONENT}\"")
    set(CMAKE_INSTALL_COMPONENT "${COMPONENT}")
  else()
    set(CMAKE_INSTALL_COMPONENT)
  endif()
endif()

# Install shared libraries without execute permission?
if(NOT DEFINED CMAKE_INSTALL_SO_NO_EXE)
  set(CMAKE_INSTALL_SO_NO_EXE "1")
endif()

# Is this installation the result of a crosscompile?
if(NOT DEFINED CMAKE_CROSSCOMPILING)
  set(CMAKE_CROSSCOMPILING "FALSE")
endif()

# Set default install directory permissions.
if(NOT DEFINED CMAKE_OBJDUMP)
  set(CMAKE_OBJDUMP "/usr/bin/objdump")
endif()

if(CMAKE_INSTALL_COMPONENT STREQUAL "Unspecified" OR NOT CMAKE_INSTALL_COMPONENT)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/sbin" TYPE PROGRAM FILES "/work/main/build-soak/tavolo")
endif()

if(CMAKE_INSTALL_COMPONENT STREQUAL "Unspecified" OR NOT CMAKE_INSTALL_COMPONENT)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/share/man/man8" TYPE FILE FILES "/work/main/docs/tavolo.8")
endif()

if(CMAKE_INSTALL_COMPONENT STREQUAL "Unspecified" OR NOT CMAKE_INSTALL_COMPONENT)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/share/doc/tavolo" TYPE FILE RENAME "tavolo.conf.example" FILES "/work/main/packaging/tavolo.conf")
endif()

if(CMAKE_INSTALL_COMPONENT STREQUAL "Unspecified" OR NOT CMAKE_INSTALL_COMPONENT)
  file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/share/doc/tavolo" TYPE FILE FILES "/work/main/docs/OPERATIONS.md")
endif()

if(CMAKE_INSTALL_COMPONENT STREQUAL "Unspecified" OR NOT CMAKE_INSTALL_COMPONENT)
  
  set(_p "${CMAKE_INSTALL_PREFIX}")
  if(IS_ABSOLUTE "sbin")
    set(_sbin "sbin")
  else()
    set(_sbin "${_p}/sbin")
  endif()
  if(_p STREQUAL "/usr" OR _p STREQUAL "/")
    set(_etc /etc)
  else()
    set(_etc "${_p}/etc")
  endif()
  if(IS_ABSOLUTE "lib/systemd/system")
    set(_units "lib/systemd/system")
  else()
    set(_units "${_p}/lib/systemd/system")
  endif()
  file(READ "/work/main/packaging/tavolo.service" _unit)
  string(REPLACE "/usr/sbin/tavolo" "${_sbin}/tavolo" _unit "${_unit}")
  string(REPLACE "/etc/tavolo/" "${_etc}/tavolo/" _unit "${_unit}")
  if(NOT "1")
    string(REPLACE "Type=notify" "Type=exec" _unit "${_unit}")
  endif()
  # (Written in the build tree, like install_manifest.txt: one install of
  # a build tree at a time; the tests take a RESOURCE_LOCK for that.)
  file(MAKE_DIRECTORY "/work/main/build-soak/packaging")
  file(WRITE "/work/main/build-soak/packaging/tavolo.service" "${_unit}")
  file(INSTALL "/work/main/build-soak/packaging/tavolo.service"
       DESTINATION "${_units}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  if("1")
    file(INSTALL "/work/main/packaging/tavolo.socket"
         DESTINATION "${_units}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()

endif()

if(NOT CMAKE_INSTALL_LOCAL_ONLY)
  # Include the install script for the subdirectory.
  include("/work/main/build-soak/bench/gameload/cmake_install.cmake")
endif()

if(NOT CMAKE_INSTALL_LOCAL_ONLY)
  # Include the install script for the subdirectory.
  include("/work/main/build-soak/tests/cmake_install.cmake")
endif()

if(CMAKE_INSTALL_COMPONENT)
  set(CMAKE_INSTALL_MANIFEST "install_manifest_${CMAKE_INSTALL_COMPONENT}.txt")
else()
  set(CMAKE_INSTALL_MANIFEST "install_manifest.txt")
endif()

string(REPLACE ";" "\n" CMAKE_INSTALL_MANIFEST_CONTENT
       "${CMAKE_INSTALL_MANIFEST_FILES}")
file(WRITE "/work/main/build-soak/${CMAKE_INSTALL_MANIFEST}"
     "${CMAKE_INSTALL_MANIFEST_CONTENT}")
