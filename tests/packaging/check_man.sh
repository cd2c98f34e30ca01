#!/bin/sh
# pkg_man: the manual page renders at 80 columns without a warning from
# man/groff, names every option in src/app/config.c, and says each
# option's default.
#   check_man.sh docs/tavolo.8
set -eu
page=$1
src=$(dirname "$0")/../..
failed=0
err=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null) || failed=1
[ -z "$err" ] || { echo "man --warnings: $err"; failed=1; }
text=$(MANWIDTH=200 LC_ALL=C.UTF-8 MAN_KEEP_FORMATTING= man -l "$page" 2>/dev/null)
# Every option name in config.c's table: U32("name", ...) / STR("name", ...).
for opt in $(sed -n 's/^ *\(U32\|STR\)("\([a-z0-9-]*\)".*/\2/p' "$src/src/app/config.c"); do
    printf "%s\n" "$text" | grep -q -- "--$opt" || { echo "option --$opt not in $page"; failed=1; }
done
if [ "$failed" -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
[ "$failed" -eq 0 ]
