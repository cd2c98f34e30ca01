/*
 * tls: TLS as a transport under conn, over OpenSSL's libssl. The only
 * file of tavolo that includes OpenSSL headers.
 *
 * A tls_server holds the current SSL_CTX (certificate, key, protocol
 * settings) and counts the handshakes in progress. A tls_conn is one
 * server-side TLS session with no socket of its own: ciphertext from the
 * peer goes in with tls_conn_input (a window that the next calls read,
 * and that they always consume whole: a partial record is kept inside
 * OpenSSL), plaintext comes out of tls_conn_read, and every ciphertext
 * byte that OpenSSL produces (handshake, records, alerts) is handed to
 * the write callback at once, so the caller's output queue holds
 * ciphertext and its caps count it.
 *
 * Policy: TLS 1.2 and 1.3 only; for 1.2 ECDHE with AES-GCM or
 * ChaCha20-Poly1305; no renegotiation, no compression, no session cache
 * or tickets (nothing is kept per client after it leaves). Buffers are
 * released while a connection is idle (SSL_MODE_RELEASE_BUFFERS).
 *
 * Reload: tls_server_swap installs a new context for new connections;
 * every tls_conn keeps a reference to the context it started with.
 */
#ifndef TAVOLO_NET_TLS_H
#define TAVOLO_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tls_ctx;    /* one loaded certificate and key (an SSL_CTX) */
struct tls_server;
struct tls_conn;

/* Builds a context from PEM files. Thread-safe (runs on the thread pool
 * at reload). Returns it (the caller's), or NULL with a one-line reason
 * in err (OpenSSL's, with the file named). */
struct tls_ctx *tls_ctx_load(const char *cert_file, const char *key_file,
                             char *err, size_t err_cap);
void tls_ctx_free(struct tls_ctx *ctx);
/* The certificate's serial number in hex, for the log. */
void tls_ctx_serial(const struct tls_ctx *ctx, char *out, size_t cap);

/* A server with no context yet (tls_server_swap gives it one). */
struct tls_server *tls_server_new(void);
void tls_server_free(struct tls_server *ts);
/* Makes ctx (taken over) the context of new connections; the previous
 * one is released once its last connection is gone. */
void tls_server_swap(struct tls_server *ts, struct tls_ctx *ctx);
bool tls_server_has_ctx(const struct tls_server *ts);
/* Handshakes begun and neither finished nor abandoned. */
uint32_t tls_server_n_handshakes(const struct tls_server *ts);

/* Ciphertext for the peer: len bytes, to queue at once. */
typedef void (*tls_write_fn)(void *ctx, const char *data, size_t len);

/* A new server-side TLS session on ts's current context, counted as a
 * handshake in progress. Returns NULL if ts has no context. */
struct tls_conn *tls_conn_new(struct tls_server *ts, tls_write_fn write,
                              void *write_ctx);
/* Frees it (a handshake in progress stops counting); NULL does nothing. */
void tls_conn_free(struct tls_conn *t);

/* Ciphertext arrived: the window that tls_conn_read reads, valid until
 * tls_conn_read returns 0 or an error. */
void tls_conn_input(struct tls_conn *t, const char *data, size_t len);

#define TLS_EOF (-1)   /* the peer sent close_notify */
#define TLS_FAIL (-2)  /* a handshake or record error: close */

/* Advances the handshake and decrypts: returns plaintext bytes (>0)
 * written to buf, 0 when the window is used up, TLS_EOF or TLS_FAIL.
 * Output it causes goes to the write callback first. */
ssize_t tls_conn_read(struct tls_conn *t, char *buf, size_t cap);

/* True once the handshake has completed. */
bool tls_conn_is_established(const struct tls_conn *t);

/* Encrypts len bytes of plaintext into records for the write callback.
 * Returns 0, or -1 if the session is not established or failed. */
int tls_conn_write(struct tls_conn *t, const char *data, size_t len);

/* Queues close_notify (best effort). */
void tls_conn_shutdown(struct tls_conn *t);

/* Why the last TLS_FAIL happened (a static or internal string). */
const char *tls_conn_error(const struct tls_conn *t);

/* The negotiated protocol and cipher, for the log ("TLSv1.3 ..."). */
void tls_conn_describe(const struct tls_conn *t, char *out, size_t cap);

#endif
