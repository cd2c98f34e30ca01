/*
 * test_tls: net/tls.c over a memory pair — a real OpenSSL client on
 * memory BIOs on one side, a tls_conn on the other, bytes carried by
 * hand; no sockets. The certificates are made by `openssl req` at start.
 */
#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char dir[] = "/tmp/tavolo-test-tls-XXXXXX";
static char cert_a[256], key_a[256], cert_b[256], key_b[256];

static void make_cert(char *cert, char *key, const char *name, int serial)
{
    char cmd[1024];
    snprintf(cert, 256, "%s/%s.pem", dir, name);
    snprintf(key, 256, "%s/%s.key", dir, name);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -keyout %s -out %s -days 2 -subj /CN=127.0.0.1 "
             "-set_serial %d >/dev/null 2>&1", key, cert, serial);
    if (system(cmd) != 0)
        abort();
}

static void setup(void)
{
    static int done;
    if (done++)
        return;
    if (mkdtemp(dir) == NULL)
        abort();
    make_cert(cert_a, key_a, "a", 0xA1);
    make_cert(cert_b, key_b, "b", 0xB2);
}

/* The server side's output, as the conn's queue would hold it. */
struct sink {
    char data[65536];
    size_t len;
};

static void to_sink(void *ctx, const char *data, size_t len)
{
    struct sink *s = ctx;
    if (s->len + len > sizeof s->data)
        abort();
    memcpy(s->data + s->len, data, len);
    s->len += len;
}

struct client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *in, *out; /* in: from the server; out: to it */
};

static void client_new(struct client *c, int max_version)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (max_version)
        SSL_CTX_set_max_proto_version(c->ctx, max_version);
    c->ssl = SSL_new(c->ctx);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    SSL_set_bio(c->ssl, c->in, c->out);
    SSL_set_connect_state(c->ssl);
}

static void client_free(struct client *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}

/* Moves bytes both ways until neither side has more to say; the server
 * gets them `step` bytes at a time (0: all at once). Plaintext the server
 * reads is appended to plain. Returns the server's last read result. */
static ssize_t pump(struct client *c, struct tls_conn *t, struct sink *s,
                    size_t step, char *plain, size_t *plain_len)
{
    ssize_t last = 0;
    for (int round = 0; round < 50; round++) {
        char buf[16384];
        SSL_do_handshake(c->ssl);
        int n = BIO_read(c->out, buf, sizeof buf);
        if (n > 0) {
            size_t chunk = step ? step : (size_t)n;
            for (size_t at = 0; at < (size_t)n; at += chunk) {
                size_t k = (size_t)n - at < chunk ? (size_t)n - at : chunk;
                tls_conn_input(t, buf + at, k);
                while ((last = tls_conn_read(t, plain + *plain_len,
                                             4096)) > 0)
                    *plain_len += (size_t)last;
                if (last < 0)
                    return last;
            }
        }
        if (s->len > 0) {
            BIO_write(c->in, s->data, (int)s->len);
            s->len = 0;
        } else if (n <= 0) {
            break;
        }
    }
    return last;
}

static void handshake_and_talk(size_t step, int max_version)
{
    setup();
    char err[400], plain[8192];
    size_t plain_len = 0;
    struct sink s = {.len = 0};
    struct tls_ctx *ctx = tls_ctx_load(cert_a, key_a, err, sizeof err);
    CHECK(ctx != NULL);
    struct tls_server *ts = tls_server_new();
    tls_server_swap(ts, ctx);
    struct tls_conn *t = tls_conn_new(ts, to_sink, &s);
    CHECK_INT(tls_server_n_handshakes(ts), 1);
    struct client c;
    client_new(&c, max_version);
    CHECK(pump(&c, t, &s, step, plain, &plain_len) == 0);
    CHECK(tls_conn_is_established(t));
    CHECK(SSL_is_init_finished(c.ssl));
    CHECK_INT(tls_server_n_handshakes(ts), 0);
    /* client to server */
    CHECK_INT(SSL_write(c.ssl, "PING hi\n", 8), 8);
    CHECK(pump(&c, t, &s, step, plain, &plain_len) == 0);
    CHECK_MEM(plain, plain_len, "PING hi\n");
    /* server to client */
    CHECK_INT(tls_conn_write(t, "OK PING hi\n", 11), 0);
    BIO_write(c.in, s.data, (int)s.len);
    s.len = 0;
    char got[64];
    int n = SSL_read(c.ssl, got, sizeof got);
    CHECK_MEM(got, n > 0 ? (size_t)n : 0, "OK PING hi\n");
    char how[96];
    tls_conn_describe(t, how, sizeof how);
    CHECK(strncmp(how, max_version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3", 7)
          == 0);
    /* close_notify from the client: TLS_EOF */
    SSL_shutdown(c.ssl);
    n = BIO_read(c.out, got, sizeof got);
    CHECK(n > 0);
    tls_conn_input(t, got, (size_t)n);
    CHECK_INT(tls_conn_read(t, plain, sizeof plain), TLS_EOF);
    client_free(&c);
    tls_conn_free(t);
    tls_server_free(ts);
}

TEST(handshake_and_lines_tls13_all_at_once)
{
    handshake_and_talk(0, 0);
}

TEST(handshake_and_lines_tls13_byte_by_byte)
{
    handshake_and_talk(1, 0);
}

TEST(handshake_and_lines_tls12)
{
    handshake_and_talk(7, TLS1_2_VERSION);
}

TEST(garbage_fails_and_stops_counting)
{
    setup();
    char err[400], plain[64];
    struct sink s = {.len = 0};
    struct tls_server *ts = tls_server_new();
    tls_server_swap(ts, tls_ctx_load(cert_a, key_a, err, sizeof err));
    struct tls_conn *t = tls_conn_new(ts, to_sink, &s);
    tls_conn_input(t, "\x16garbage that is no hello\n", 26);
    CHECK_INT(tls_conn_read(t, plain, sizeof plain), TLS_FAIL);
    CHECK(strlen(tls_conn_error(t)) > 0);
    CHECK_INT(tls_conn_write(t, "x", 1), -1);
    CHECK_INT(tls_server_n_handshakes(ts), 1);
    tls_conn_free(t);
    CHECK_INT(tls_server_n_handshakes(ts), 0);
    tls_server_free(ts);
}

TEST(tls10_and_11_refused)
{
    setup();
    char err[400], plain[64];
    size_t plain_len = 0;
    struct sink s = {.len = 0};
    struct tls_server *ts = tls_server_new();
    tls_server_swap(ts, tls_ctx_load(cert_a, key_a, err, sizeof err));
    struct tls_conn *t = tls_conn_new(ts, to_sink, &s);
    struct client c;
    client_new(&c, TLS1_1_VERSION);
    SSL_set_security_level(c.ssl, 0);
    CHECK(pump(&c, t, &s, 0, plain, &plain_len) < 0 || !tls_conn_is_established(t));
    CHECK(!tls_conn_is_established(t));
    client_free(&c);
    tls_conn_free(t);
    tls_server_free(ts);
}

TEST(bad_files_say_why_and_swap_keeps_old_sessions)
{
    setup();
    char err[400], plain[8192];
    size_t plain_len = 0;
    CHECK(tls_ctx_load("/nonexistent.pem", key_a, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent.pem") != NULL);
    CHECK(tls_ctx_load(cert_a, key_b, err, sizeof err) == NULL);
    CHECK(strstr(err, key_b) != NULL);

    struct sink s = {.len = 0};
    struct tls_server *ts = tls_server_new();
    CHECK(tls_conn_new(ts, to_sink, &s) == NULL); /* no context yet */
    struct tls_ctx *a = tls_ctx_load(cert_a, key_a, err, sizeof err);
    char serial[32];
    tls_ctx_serial(a, serial, sizeof serial);
    CHECK_STR(serial, "A1");
    tls_server_swap(ts, a);
    struct tls_conn *t = tls_conn_new(ts, to_sink, &s);
    struct client c;
    client_new(&c, 0);
    CHECK(pump(&c, t, &s, 0, plain, &plain_len) == 0);
    tls_server_swap(ts, tls_ctx_load(cert_b, key_b, err, sizeof err));
    /* the old session still works on the context it started with */
    CHECK_INT(SSL_write(c.ssl, "PING\n", 5), 5);
    CHECK(pump(&c, t, &s, 0, plain, &plain_len) == 0);
    CHECK_MEM(plain, plain_len, "PING\n");
    X509 *peer = SSL_get1_peer_certificate(c.ssl);
    CHECK_INT(ASN1_INTEGER_get(X509_get0_serialNumber(peer)), 0xA1);
    X509_free(peer);
    client_free(&c);
    tls_conn_free(t);
    tls_server_free(ts);
}
