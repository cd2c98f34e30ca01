# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build-soak
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(pkg_install "sh" "/work/main/tests/packaging/check_install.sh" "/work/main/build-soak" "/work/main" "1")
set_tests_properties(pkg_install PROPERTIES  RESOURCE_LOCK "tavolo_install" _BACKTRACE_TRIPLES "/work/main/cmake/packaging.cmake;94;add_test;/work/main/cmake/packaging.cmake;0;;/work/main/CMakeLists.txt;89;include;/work/main/CMakeLists.txt;0;")
add_test(pkg_man "sh" "/work/main/tests/packaging/check_man.sh" "/work/main/docs/tavolo.8")
set_tests_properties(pkg_man PROPERTIES  _BACKTRACE_TRIPLES "/work/main/cmake/packaging.cmake;101;add_test;/work/main/cmake/packaging.cmake;0;;/work/main/CMakeLists.txt;89;include;/work/main/CMakeLists.txt;0;")
add_test(pkg_unit_verify "sh" "/work/main/tests/packaging/check_units.sh" "/work/main/build-soak" "/work/main")
set_tests_properties(pkg_unit_verify PROPERTIES  RESOURCE_LOCK "tavolo_install" _BACKTRACE_TRIPLES "/work/main/cmake/packaging.cmake;107;add_test;/work/main/cmake/packaging.cmake;0;;/work/main/CMakeLists.txt;89;include;/work/main/CMakeLists.txt;0;")
add_test(it_systemd "/root/.pyenv/shims/python3" "/work/main/tests/packaging/test_systemd.py")
set_tests_properties(it_systemd PROPERTIES  ENVIRONMENT "TAVOLO_BIN=/work/main/build-soak/tavolo;PYTHONDONTWRITEBYTECODE=1" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/cmake/packaging.cmake;115;add_test;/work/main/cmake/packaging.cmake;0;;/work/main/CMakeLists.txt;89;include;/work/main/CMakeLists.txt;0;")
subdirs("bench/gameload")
subdirs("tests")
