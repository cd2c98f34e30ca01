/*
 * addr: see addr.h.
 */
#include "net/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool net_addr_is_v4(const struct net_addr *a)
{
    return memcmp(a->b, v4_prefix, sizeof v4_prefix) == 0;
}

void net_addr_from_sockaddr(struct net_addr *a, const struct sockaddr *sa)
{
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(a->b, v4_prefix, sizeof v4_prefix);
        memcpy(a->b + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(a->b, &in6->sin6_addr, 16);
    }
}

int net_addr_parse(const char *s, struct net_addr *a, bool *is_v4)
{
    struct in_addr v4;

    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, s, &v4) == 1) {
        memcpy(a->b, v4_prefix, sizeof v4_prefix);
        memcpy(a->b + 12, &v4, 4);
        *is_v4 = true;
        return 0;
    }
    if (inet_pton(AF_INET6, s, a->b) == 1) {
        *is_v4 = false;
        return 0;
    }
    return -1;
}

void net_addr_format(const struct net_addr *a, char out[NET_ADDR_STRLEN])
{
    if (net_addr_is_v4(a))
        inet_ntop(AF_INET, a->b + 12, out, NET_ADDR_STRLEN);
    else
        inet_ntop(AF_INET6, a->b, out, NET_ADDR_STRLEN);
}
