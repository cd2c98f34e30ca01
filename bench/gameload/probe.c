/*
 * probe.c - what gameload asks of the server and its process before and
 * around a run: one blocking connection that reads HELLO, lists GAMES and
 * (for --quick) tries QUICK once; and the server's VmRSS and CPU time
 * from /proc. No epoll, no players: gameload.c owns those.
 */
#define _GNU_SOURCE
#include "gameload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---------- the server process ---------- */

long read_rss_kb(int pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* utime + stime of the process, in clock ticks; -1 if unreadable. */
long long read_cpu_ticks(int pid)
{
    char path[64], buf[1024], *s;
    unsigned long long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* The command name may hold spaces: fields are counted after its ')'. */
    if (!(s = strrchr(buf, ')')) ||
        sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* ---------- the probe: what the server offers ---------- */

static int probe_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, 1, 0); /* a few lines: byte by byte */
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (buf[n] == '\n') {
            if (n && buf[n - 1] == '\r')
                n--;
            buf[n] = 0;
            return 0;
        }
        n++;
    }
    return -1;
}

/* Sends a command and returns its reply (skipping HELLO and events). */
static int probe_cmd(int fd, const char *cmd, char *buf, size_t cap)
{
    char line[600];

    snprintf(line, sizeof line, "%s\n", cmd);
    if (send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line))
        return -1;
    for (;;) {
        if (probe_line(fd, buf, cap))
            return -1;
        if (!strncmp(buf, "OK ", 3) || !strncmp(buf, "ERR ", 4))
            return 0;
    }
}

static int offers(const char *games, const struct spec *s)
{
    const char *name = game_name(s->game);
    size_t len = strlen(name);

    for (const char *g = games; (g = strstr(g, name)); g += len) {
        const char *q = g + len;
        if ((g != games && g[-1] != ' ') || *q != ':')
            continue;
        for (q++; *q && *q != ' ';) {
            if (atoi(q) == s->seats)
                return 1;
            while (*q && *q != ',' && *q != ' ')
                q++;
            if (*q == ',')
                q++;
        }
    }
    return 0;
}

void probe(const struct sockaddr_storage *addr, socklen_t addr_len,
           const char *host, int port, const struct spec *specs, int n_specs,
           int quick, const char *tag)
{
    char buf[600], cmd[64];
    struct timeval tv = {.tv_sec = 5};
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
        connect(fd, (const struct sockaddr *)addr, addr_len) == -1) {
        fprintf(stderr, "gameload: cannot connect to %s:%d: %s\n", host, port,
                strerror(errno));
        exit(2);
    }
    if (probe_cmd(fd, "GAMES", buf, sizeof buf) ||
        strncmp(buf, "OK GAMES", 8)) {
        fprintf(stderr, "gameload: GAMES: no answer, or '%s'\n", buf);
        exit(2);
    }
    for (int i = 0; i < n_specs; i++)
        if (!offers(buf + 8, &specs[i])) {
            fprintf(stderr,
                    "gameload: the server does not offer %s with %d "
                    "seats (%s)\n",
                    game_name(specs[i].game), specs[i].seats, buf);
            exit(2);
        }
    if (quick) {
        snprintf(cmd, sizeof cmd, "NICK %sq", tag);
        if (probe_cmd(fd, cmd, buf, sizeof buf) || strncmp(buf, "OK NICK", 7)) {
            fprintf(stderr, "gameload: probe NICK: '%s'\n", buf);
            exit(2);
        }
        snprintf(cmd, sizeof cmd, "QUICK %s %d", game_name(specs[0].game),
                 specs[0].seats);
        if (probe_cmd(fd, cmd, buf, sizeof buf)) {
            fprintf(stderr, "gameload: probe QUICK: no answer\n");
            exit(2);
        }
        if (!strncmp(buf, "ERR BADCMD", 10)) {
            fprintf(stderr,
                    "gameload: --quick: not supported by this server "
                    "(QUICK -> %s)\n",
                    buf);
            exit(2);
        }
        if (strncmp(buf, "OK QUICK", 8) ||
            probe_cmd(fd, "LEAVE", buf, sizeof buf)) {
            fprintf(stderr, "gameload: probe QUICK: '%s'\n", buf);
            exit(2);
        }
    }
    probe_cmd(fd, "QUIT", buf, sizeof buf); /* best effort */
    close(fd);
}
