# shellcheck shell=bash disable=SC2034
# host-apt.sh: the host's apt settings for a root that mmdebstrap builds,
# sourced by fresh-check.sh, deb-check.sh and deb-boot-check.sh (one copy,
# so that a fix to how mirrors are reached reaches all three).
#
#   host_apt_settings    sets the arrays `sources` (mmdebstrap's MIRROR
#                        arguments: the host's *.list / *.sources files) and
#                        `aptopts` (--aptopt= for each file with Acquire::
#                        settings, and apt.conf), and `setup_hook`; returns
#                        1 if the host has no sources
#   host_apt_keyrings R  copies into root R the keyrings the sources name
#                        by Signed-By (a third-party key is not in the
#                        root's debian-archive-keyring)

host_apt_settings() {
    # Only the files apt itself reads (*.list, *.sources): a renamed
    # (disabled) file stays off, as on the host.
    sources=()
    if [ -s /etc/apt/sources.list ] && grep -q '^[[:space:]]*deb' /etc/apt/sources.list; then
        sources+=(/etc/apt/sources.list)
    fi
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        if [ -s "$f" ]; then sources+=("$f"); fi
    done
    # How the mirrors are reached (proxies, https, Check-Valid-Until for
    # snapshot mirrors) and the main apt.conf; not the host's other habits.
    aptopts=()
    if [ -s /etc/apt/apt.conf ]; then aptopts+=(--aptopt=/etc/apt/apt.conf); fi
    for f in /etc/apt/apt.conf.d/*; do
        if [ -f "$f" ] && grep -q 'Acquire' "$f"; then aptopts+=("--aptopt=$f"); fi
    done
    # auth.conf holds mirror credentials: copied in before the first
    # download, never printed. Single quotes on purpose: mmdebstrap's sh
    # expands $1 (the new root) and $f.
    # shellcheck disable=SC2016
    setup_hook='mkdir -p "$1/etc/apt/auth.conf.d"
[ ! -f /etc/apt/auth.conf ] || cp -a /etc/apt/auth.conf "$1/etc/apt/"
for f in /etc/apt/auth.conf.d/*; do [ ! -f "$f" ] || cp -a "$f" "$1/etc/apt/auth.conf.d/"; done'
    [ ${#sources[@]} -gt 0 ]
}

host_apt_keyrings() {
    local root=$1 key
    while read -r key; do
        if [ -f "$key" ] && [ ! -e "$root$key" ]; then
            mkdir -p "$root$(dirname "$key")" && cp -a "$key" "$root$key"
        fi
    done < <(grep -h -o -i -E 'signed-by[:=][[:space:]]*[^] ]+' "${sources[@]}" \
               | sed -E 's/^[^:=]*[:=][[:space:]]*//' | sort -u)
}
