/*
 * listen: see listen.h.
 */
#include "net/listen.h"

#include <stdio.h>
#include <string.h>

int listen_tcp(uv_tcp_t *tcp, const char *addr, uint16_t port, int backlog,
               uv_connection_cb cb, char *bound, size_t bound_cap)
{
    struct sockaddr_storage ss;
    int rc, len = sizeof ss;
    char host[64];

    memset(&ss, 0, sizeof ss);
    if (uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) != 0 &&
        (rc = uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss)) != 0)
        return rc;
    /* flags 0: an IPv6 "::" socket also accepts IPv4 (dual-stack) */
    if ((rc = uv_tcp_bind(tcp, (struct sockaddr *)&ss, 0)) != 0)
        return rc;
    if ((rc = uv_listen((uv_stream_t *)tcp, backlog, cb)) != 0)
        return rc;
    if ((rc = uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len)) != 0)
        return rc;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(in6, host, sizeof host);
        snprintf(bound, bound_cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        uv_ip4_name(in, host, sizeof host);
        snprintf(bound, bound_cap, "%s:%u", host, ntohs(in->sin_port));
    }
    return 0;
}

/* ---------- an inherited socket (socket activation) ---------- */

int listen_tcp_fd(uv_tcp_t *tcp, int fd, int backlog, uv_connection_cb cb,
                  char *bound, size_t bound_cap)
{
    struct sockaddr_storage ss;
    int rc, len = sizeof ss;
    char host[64];

    if ((rc = uv_tcp_open(tcp, (uv_os_sock_t)fd)) != 0)
        return rc;
    /* listen() again on a listening socket only updates its backlog. */
    if ((rc = uv_listen((uv_stream_t *)tcp, backlog, cb)) != 0)
        return rc;
    if ((rc = uv_tcp_getsockname(tcp, (struct sockaddr *)&ss, &len)) != 0)
        return rc;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(in6, host, sizeof host);
        snprintf(bound, bound_cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        uv_ip4_name(in, host, sizeof host);
        snprintf(bound, bound_cap, "%s:%u", host, ntohs(in->sin_port));
    }
    return 0;
}
