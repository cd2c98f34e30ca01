/*
 * listen: see listen.h.
 */
#define _GNU_SOURCE /* accept4 */
#include "net/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void format_bound(const struct sockaddr_storage *ss, char *bound,
                         size_t bound_cap)
{
    char host[64];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(in6, host, sizeof host);
        snprintf(bound, bound_cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        uv_ip4_name(in, host, sizeof host);
        snprintf(bound, bound_cap, "%s:%u", host, ntohs(in->sin_port));
    }
}

static int parse_addr(const char *addr, uint16_t port,
                      struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (uv_ip6_addr(addr, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return uv_ip4_addr(addr, port, (struct sockaddr_in *)ss);
}

int listen_tcp(uv_tcp_t *tcp, const char *addr, uint16_t port, int backlog,
               uv_connection_cb cb, char *bound, size_t bound_cap)
{
    struct sockaddr_storage ss;
    int rc, len = sizeof ss;

    if ((rc = parse_addr(addr, port, &ss)) != 0)
        return rc;
    /* flags 0: an IPv6 "::" socket also accepts IPv4 (dual-stack) */
    if ((rc = uv_tcp_bind(tcp, (struct sockaddr *)&ss, 0)) != 0)
        return rc;
    if ((rc = uv_listen((uv_stream_t *)tcp, backlog, cb)) != 0)
        return rc;
    if ((rc = uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len)) != 0)
        return rc;
    format_bound(&ss, bound, bound_cap);
    return 0;
}

int listen_open(struct listener *l, uv_loop_t *loop, const char *addr,
                uint16_t port, int backlog, uv_poll_cb cb, char *bound,
                size_t bound_cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1, zero = 0, rc;

    l->fd = l->spare_fd = -1;
    if ((rc = parse_addr(addr, port, &ss)) != 0)
        return rc;
    len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                   : sizeof(struct sockaddr_in);
    l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd == -1)
        return uv_translate_sys_error(errno);
    /* SO_REUSEADDR: a restart must not wait for TIME_WAIT sockets; on
     * "::", V6ONLY off makes the socket dual-stack (as libuv's flags 0). */
    if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
        (ss.ss_family == AF_INET6 &&
         setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) == -1) ||
        bind(l->fd, (struct sockaddr *)&ss, len) == -1 ||
        listen(l->fd, backlog) == -1) {
        rc = uv_translate_sys_error(errno);
        goto fail;
    }
    len = sizeof ss;
    if (getsockname(l->fd, (struct sockaddr *)&ss, &len) == -1) {
        rc = uv_translate_sys_error(errno);
        goto fail;
    }
    format_bound(&ss, bound, bound_cap);
    if ((rc = uv_poll_init_socket(loop, &l->poll, l->fd)) != 0)
        goto fail;
    l->poll.data = l;
    if ((rc = uv_poll_start(&l->poll, UV_READABLE, cb)) != 0) {
        uv_close((uv_handle_t *)&l->poll, NULL);
        goto fail;
    }
    /* best effort: without a spare, EMFILE leaves the connection queued
     * and the next callback tries again */
    l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
fail:
    close(l->fd);
    l->fd = -1;
    return rc;
}

int listen_accept(struct listener *l, struct sockaddr_storage *ss,
                  socklen_t *ss_len)
{
    for (;;) {
        *ss_len = sizeof *ss;
        int fd = accept4(l->fd, (struct sockaddr *)ss, ss_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd != -1)
            return fd;
        switch (errno) {
        case EINTR:
        case ECONNABORTED: /* the peer gave up while queued: take the next */
            continue;
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
            return LISTEN_AGAIN;
        case EMFILE:
        case ENFILE:
            if (l->spare_fd == -1) {
                /* no spare (it could not be reopened last time): try to
                 * get one back for next time */
                l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                return LISTEN_AGAIN;
            }
            /* Free one descriptor, take the connection and drop it at
             * once, so the backlog drains instead of waking us forever. */
            close(l->spare_fd);
            fd = accept(l->fd, NULL, NULL);
            if (fd != -1)
                close(fd);
            l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            return fd != -1 ? LISTEN_SHED : LISTEN_AGAIN;
        default:
            return LISTEN_ERROR;
        }
    }
}

static void on_poll_closed(uv_handle_t *h)
{
    struct listener *l = h->data;

    /* The descriptor outlives its watcher: libuv must stop polling it
     * before it is closed. */
    if (l->fd != -1)
        close(l->fd);
    if (l->spare_fd != -1)
        close(l->spare_fd);
    l->fd = l->spare_fd = -1;
}

void listen_close(struct listener *l)
{
    if (l->fd == -1)
        return;
    uv_close((uv_handle_t *)&l->poll, on_poll_closed);
}

/* ---------- an inherited socket (socket activation) ---------- */

int listen_adopt(struct listener *l, uv_loop_t *loop, int fd, int backlog,
                 uv_poll_cb cb, char *bound, size_t bound_cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int flags, rc;

    l->fd = fd;
    l->spare_fd = -1;
    /* systemd passes a blocking socket unless NonBlocking=yes; accept4's
     * loop needs EAGAIN. listen() again only updates the backlog. */
    if ((flags = fcntl(fd, F_GETFL)) == -1 ||
        fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 || listen(fd, backlog) == -1 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
        rc = uv_translate_sys_error(errno);
        goto fail;
    }
    format_bound(&ss, bound, bound_cap);
    if ((rc = uv_poll_init_socket(loop, &l->poll, l->fd)) != 0)
        goto fail;
    l->poll.data = l;
    if ((rc = uv_poll_start(&l->poll, UV_READABLE, cb)) != 0) {
        uv_close((uv_handle_t *)&l->poll, NULL);
        goto fail;
    }
    /* best effort, as in listen_open */
    l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
fail:
    close(l->fd);
    l->fd = -1;
    return rc;
}
