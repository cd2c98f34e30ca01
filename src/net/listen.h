/*
 * listen: the listening socket.
 *
 * Binds one TCP listener (dual-stack when the address is "::"), with
 * SO_REUSEADDR (libuv sets it on bind), and reports the bound address.
 * libuv's accept path already sheds connections when the process runs out
 * of file descriptors (it keeps a spare descriptor to accept and close), so
 * EMFILE neither spins the loop nor stops the server.
 */
#ifndef TAVOLO_NET_LISTEN_H
#define TAVOLO_NET_LISTEN_H

#include <stdint.h>
#include <uv.h>

/* Binds tcp (initialised by the caller) to addr:port and listens with the
 * given backlog. Returns 0 or a libuv error code. On success writes the
 * bound "addr:port" (IPv6 in brackets) into bound. */
int listen_tcp(uv_tcp_t *tcp, const char *addr, uint16_t port, int backlog,
               uv_connection_cb cb, char *bound, size_t bound_cap);

/* The same for a socket that is already bound and listening, passed in by
 * the service manager (socket activation): tcp (initialised by the
 * caller) takes fd over, and closing tcp closes fd. Returns 0 or a libuv
 * error code; on success writes the socket's "addr:port" into bound. */
int listen_tcp_fd(uv_tcp_t *tcp, int fd, int backlog, uv_connection_cb cb,
                  char *bound, size_t bound_cap);

#endif
