/*
 * listen: the listening sockets.
 *
 * listen_tcp binds a libuv listener (the admin port): libuv accepts and
 * calls back for every connection, and sheds connections itself when the
 * process runs out of file descriptors.
 *
 * listen_open binds the game port as a plain socket watched by a uv_poll
 * handle, and listen_accept takes one pending connection at a time. The
 * caller therefore decides how many connections to accept per loop
 * iteration (the poll is level-triggered: what is left is reported again
 * on the next iteration), and can refuse a connection with nothing
 * allocated beyond its address. EMFILE/ENFILE are handled like libuv
 * does: a spare descriptor is closed, the pending connection accepted and
 * closed at once, and the spare reopened, so a full descriptor table
 * neither spins the loop nor stops the server.
 *
 * Both bind dual-stack when the address is "::", with SO_REUSEADDR.
 */
#ifndef TAVOLO_NET_LISTEN_H
#define TAVOLO_NET_LISTEN_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* Binds tcp (initialised by the caller) to addr:port and listens with the
 * given backlog. Returns 0 or a libuv error code. On success writes the
 * bound "addr:port" (IPv6 in brackets) into bound. */
int listen_tcp(uv_tcp_t *tcp, const char *addr, uint16_t port, int backlog,
               uv_connection_cb cb, char *bound, size_t bound_cap);

struct listener {
    uv_poll_t poll;  /* readable: connections are waiting */
    int fd;          /* the listening socket, -1 when closed */
    int spare_fd;    /* kept open for the EMFILE dance; -1 if none */
    void *data;      /* the caller's */
};

/* Creates, binds and listens on addr:port, and starts watching it on
 * loop: cb runs while connections are pending. Returns 0 or a libuv error
 * code (nothing is left open then). On success writes the bound address
 * into bound, as listen_tcp does. */
int listen_open(struct listener *l, uv_loop_t *loop, const char *addr,
                uint16_t port, int backlog, uv_poll_cb cb, char *bound,
                size_t bound_cap);

enum {
    LISTEN_AGAIN = -1, /* nothing pending: wait for the next callback */
    LISTEN_SHED = -2,  /* out of descriptors: one connection was closed */
    LISTEN_ERROR = -3, /* another accept error (errno says which) */
};

/* Accepts one pending connection: returns its descriptor (non-blocking,
 * close-on-exec; the caller owns it) and fills *ss and *ss_len, or one of
 * the negative codes above. */
int listen_accept(struct listener *l, struct sockaddr_storage *ss,
                  socklen_t *ss_len);

/* Stops watching and closes the socket (from the loop's close callback). */
void listen_close(struct listener *l);

/* listen_open for a socket that is already bound and listening, passed in
 * by the service manager (socket activation): l takes fd over (made
 * non-blocking; listen_close closes it). Returns 0 or a libuv error code
 * (fd is closed then); on success writes the socket's address into bound. */
int listen_adopt(struct listener *l, uv_loop_t *loop, int fd, int backlog,
                 uv_poll_cb cb, char *bound, size_t bound_cap);

#endif
