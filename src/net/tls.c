/*
 * tls: see tls.h.
 *
 * The BIO under each SSL is ours (a source/sink method): reads come from
 * the window given by tls_conn_input, writes go straight to the write
 * callback. So no memory BIO grows per connection, and an idle TLS
 * connection holds only OpenSSL's SSL object.
 */
#include "net/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

/* Like base/mem.c: running out of memory is an emergency (STYLE.md). */
static void oom(const char *what)
{
    log_error("out of memory: %s", what);
    abort();
}

struct tls_ctx {
    SSL_CTX *ssl_ctx;
};

struct tls_server {
    SSL_CTX *current;      /* NULL until the first swap */
    uint32_t n_handshakes;
};

struct tls_conn {
    SSL *ssl;
    struct tls_server *ts;
    tls_write_fn write;
    void *write_ctx;
    const char *in;        /* the window: ciphertext not yet read */
    size_t in_len;
    bool is_counted;       /* in ts->n_handshakes */
    bool is_established;
    const char *error;
    char error_buf[160];
};

/* ---------- the BIO: a window in, a callback out ---------- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_write(BIO *b, const char *data, int len)
{
    struct tls_conn *t = BIO_get_data(b);

    /* The caller's queue takes everything (or closes the connection:
     * then the bytes are dropped, which is what closing means). */
    if (len > 0)
        t->write(t->write_ctx, data, (size_t)len);
    return len;
}

static int bio_read(BIO *b, char *out, int cap)
{
    struct tls_conn *t = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (t->in_len == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = t->in_len < (size_t)cap ? t->in_len : (size_t)cap;
    memcpy(out, t->in, n);
    t->in += n;
    t->in_len -= n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static void make_bio_method(void)
{
    bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                              "tavolo conn");
    if (bio_method == NULL)
        oom("BIO_meth_new");
    BIO_meth_set_write(bio_method, bio_write);
    BIO_meth_set_read(bio_method, bio_read);
    BIO_meth_set_ctrl(bio_method, bio_ctrl);
    BIO_meth_set_create(bio_method, bio_create);
}

/* ---------- contexts ---------- */

/* OpenSSL's oldest queued error, as text, or fallback. */
static void ssl_error_text(char *err, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "";

    if (e != 0)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, cap, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

struct tls_ctx *tls_ctx_load(const char *cert_file, const char *key_file,
                             char *err, size_t err_cap)
{
    char what[300];
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());

    ERR_clear_error();
    if (c == NULL) {
        ssl_error_text(err, err_cap, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(c, 0);
    /* TLS 1.2: forward secrecy and AEAD only; TLS 1.3's suites all are. */
    if (SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
        ssl_error_text(err, err_cap, "cipher list");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(c, cert_file) != 1) {
        snprintf(what, sizeof what, "certificate %s", cert_file);
        ssl_error_text(err, err_cap, what);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof what, "key %s", key_file);
        ssl_error_text(err, err_cap, what);
        goto fail;
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        snprintf(what, sizeof what, "key %s does not match certificate %s",
                 key_file, cert_file);
        ssl_error_text(err, err_cap, what);
        goto fail;
    }
    struct tls_ctx *ctx = mem_calloc(1, sizeof *ctx);
    ctx->ssl_ctx = c;
    return ctx;
fail:
    SSL_CTX_free(c);
    return NULL;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

void tls_ctx_serial(const struct tls_ctx *ctx, char *out, size_t cap)
{
    X509 *x = SSL_CTX_get0_certificate(ctx->ssl_ctx);
    const ASN1_INTEGER *sn = x ? X509_get0_serialNumber(x) : NULL;
    BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    snprintf(out, cap, "%s", hex ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
}

struct tls_server *tls_server_new(void)
{
    pthread_once(&bio_once, make_bio_method);
    return mem_calloc(1, sizeof(struct tls_server));
}

void tls_server_free(struct tls_server *ts)
{
    if (ts == NULL)
        return;
    SSL_CTX_free(ts->current);
    free(ts);
}

void tls_server_swap(struct tls_server *ts, struct tls_ctx *ctx)
{
    /* Each SSL holds a reference to its SSL_CTX: the old one lives on
     * for the connections that use it. */
    SSL_CTX_free(ts->current);
    ts->current = ctx->ssl_ctx;
    free(ctx);
}

bool tls_server_has_ctx(const struct tls_server *ts)
{
    return ts != NULL && ts->current != NULL;
}

uint32_t tls_server_n_handshakes(const struct tls_server *ts)
{
    return ts ? ts->n_handshakes : 0;
}

/* ---------- connections ---------- */

static void uncount(struct tls_conn *t)
{
    if (t->is_counted) {
        t->is_counted = false;
        t->ts->n_handshakes--;
    }
}

struct tls_conn *tls_conn_new(struct tls_server *ts, tls_write_fn write,
                              void *write_ctx)
{
    if (!tls_server_has_ctx(ts))
        return NULL;
    SSL *ssl = SSL_new(ts->current);
    BIO *bio = BIO_new(bio_method);
    if (ssl == NULL || bio == NULL)
        oom("SSL_new");
    struct tls_conn *t = mem_calloc(1, sizeof *t);
    t->ssl = ssl;
    t->ts = ts;
    t->write = write;
    t->write_ctx = write_ctx;
    BIO_set_data(bio, t);
    SSL_set_bio(ssl, bio, bio); /* one reference, owned by ssl */
    SSL_set_accept_state(ssl);
    t->is_counted = true;
    ts->n_handshakes++;
    return t;
}

void tls_conn_free(struct tls_conn *t)
{
    if (t == NULL)
        return;
    uncount(t);
    SSL_free(t->ssl);
    free(t);
}

void tls_conn_input(struct tls_conn *t, const char *data, size_t len)
{
    t->in = data;
    t->in_len = len;
}

static ssize_t fail(struct tls_conn *t, int ssl_err)
{
    unsigned long e = ERR_peek_error();

    if (ssl_err == SSL_ERROR_SYSCALL && e == 0) {
        t->error = "unexpected end of the TLS stream";
    } else if (e != 0) {
        ERR_error_string_n(e, t->error_buf, sizeof t->error_buf);
        t->error = t->error_buf;
    } else {
        snprintf(t->error_buf, sizeof t->error_buf, "SSL error %d", ssl_err);
        t->error = t->error_buf;
    }
    ERR_clear_error();
    return TLS_FAIL;
}

ssize_t tls_conn_read(struct tls_conn *t, char *buf, size_t cap)
{
    ERR_clear_error();
    if (!t->is_established) {
        int rc = SSL_do_handshake(t->ssl);
        if (rc != 1) {
            int e = SSL_get_error(t->ssl, rc);
            if (e == SSL_ERROR_WANT_READ && t->in_len == 0)
                return 0;
            return fail(t, e);
        }
        t->is_established = true;
        uncount(t);
    }
    int n = SSL_read(t->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    int e = SSL_get_error(t->ssl, n);
    if (e == SSL_ERROR_WANT_READ && t->in_len == 0)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN)
        return TLS_EOF;
    return fail(t, e);
}

bool tls_conn_is_established(const struct tls_conn *t)
{
    return t->is_established;
}

int tls_conn_write(struct tls_conn *t, const char *data, size_t len)
{
    if (!t->is_established || t->error != NULL)
        return -1;
    ERR_clear_error();
    /* Our BIO takes everything, so one call writes it all. */
    int n = SSL_write(t->ssl, data, (int)len);
    if (n <= 0) {
        fail(t, SSL_get_error(t->ssl, n));
        return -1;
    }
    return 0;
}

void tls_conn_shutdown(struct tls_conn *t)
{
    if (!t->is_established || t->error != NULL)
        return;
    /* best effort: the peer may never see the close_notify */
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

const char *tls_conn_error(const struct tls_conn *t)
{
    return t->error ? t->error : "TLS error";
}

void tls_conn_describe(const struct tls_conn *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s", SSL_get_version(t->ssl),
             SSL_get_cipher_name(t->ssl));
}
