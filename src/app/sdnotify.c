/*
 * sdnotify: see sdnotify.h.
 */
#include "app/sdnotify.h"

#include "base/log.h"

#ifdef TAVOLO_HAVE_SYSTEMD

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

int sdnotify_listen_fd(void)
{
    /* 1: unset the LISTEN_* variables and mark the fds close-on-exec. */
    int n = sd_listen_fds(1);

    if (n < 0) {
        log_warn("socket activation: cannot read LISTEN_FDS: %s", strerror(-n));
        return -1;
    }
    if (n == 0)
        return -1;
    if (n > 1)
        log_warn("socket activation: %d sockets passed, using the first "
                 "(fd %d)", n, SD_LISTEN_FDS_START);
    int fd = SD_LISTEN_FDS_START;
    /* family 0: IPv4 or IPv6; 1: must be listening already. */
    if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) <= 0) {
        log_error("socket activation: fd %d is not a listening TCP socket; "
                  "ignoring it and binding --bind/--port", fd);
        return -1;
    }
    log_info("socket activation: listening on fd %d from systemd; --bind "
             "and --port are ignored", fd);
    return fd;
}

void sdnotify_ready(void)
{
    sd_notify(0, "READY=1\nSTATUS=serving"); /* best effort */
}

void sdnotify_reloading(void)
{
    struct timespec ts;
    char msg[80];

    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(msg, sizeof msg, "RELOADING=1\nSTATUS=reloading the blacklist\n"
             "MONOTONIC_USEC=%" PRIu64,
             (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
    sd_notify(0, msg); /* best effort */
}

void sdnotify_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=shutting down"); /* best effort */
}

void sdnotify_took_over(void)
{
    char msg[96];

    snprintf(msg, sizeof msg, "MAINPID=%ld\nREADY=1\nSTATUS=upgraded; serving",
             (long)getpid());
    sd_notify(0, msg); /* best effort */
}

void sdnotify_hand_main_pid(long pid)
{
    char msg[64];

    snprintf(msg, sizeof msg, "MAINPID=%ld\nSTATUS=handed over; exiting or "
             "relaying TLS", pid);
    if (sd_notify(0, msg) <= 0)
        return; /* not under systemd (or it cannot hear us) */
    int rc = sd_notify_barrier(0, 2 * 1000 * 1000);
    if (rc < 0)
        log_warn("systemd: no answer to the notify barrier after MAINPID=%ld: %s",
                 pid, strerror(-rc));
}

#else /* built without libsystemd */

#include <stdlib.h>

int sdnotify_listen_fd(void)
{
    /* A socket unit would hold the port we are about to bind: say why
     * the bind will fail instead of leaving EADDRINUSE unexplained. */
    if (getenv("LISTEN_FDS") != NULL)
        log_warn("socket activation: built without libsystemd, ignoring "
                 "the passed socket(s) and binding --bind/--port");
    return -1;
}

void sdnotify_ready(void)
{
}

void sdnotify_reloading(void)
{
}

void sdnotify_stopping(void)
{
}

void sdnotify_took_over(void)
{
}

void sdnotify_hand_main_pid(long pid)
{
    (void)pid;
}

#endif
