/*
 * upgrade_wire: see upgrade_wire.h.
 *
 * Reading is done by one cursor that turns every overrun into a sticky
 * failure, so a parser is a straight list of reads followed by one check:
 * no read past the end can happen, whatever the lengths claim.
 */
#include "app/upgrade_wire.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* ---------- writing ---------- */

static void put(struct upgrade_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->data = mem_realloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u8(struct upgrade_buf *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_u16(struct upgrade_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(b, x, 2);
}

static void put_u32(struct upgrade_buf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}

static void put_u64(struct upgrade_buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 8);
}

/* A short string: 16-bit length, then its bytes (no NUL). */
static void put_str(struct upgrade_buf *b, const char *s)
{
    size_t n = strlen(s);
    put_u16(b, (uint16_t)n);
    put(b, s, n);
}

static void put_bytes(struct upgrade_buf *b, const char *p, uint32_t n)
{
    put_u32(b, n);
    if (n > 0)
        put(b, p, n);
}

/* The message types whose payload is a record count, then records. */
static bool has_records(uint8_t type)
{
    return type == UPGRADE_CONNS || type == UPGRADE_MATCHES ||
           type == UPGRADE_CLUSTER || type == UPGRADE_QUEUE ||
           type == UPGRADE_TLS_PENDING;
}

static void poke_u32(char *at, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        at[i] = (char)(uint8_t)(v >> (8 * i));
}

void upgrade_begin(struct upgrade_buf *b, enum upgrade_msg type)
{
    b->len = 0;
    b->n_items = 0;
    put(b, "TVUP", 4);
    put_u16(b, UPGRADE_WIRE_VERSION);
    put_u8(b, (uint8_t)type);
    put_u8(b, 0);
    put_u32(b, 0); /* the payload's length, at upgrade_finish */
    if (has_records((uint8_t)type))
        put_u32(b, 0); /* the record count, likewise */
}

void upgrade_finish(struct upgrade_buf *b)
{
    poke_u32(b->data + 8, (uint32_t)(b->len - UPGRADE_HEADER_LEN));
    uint8_t type = (uint8_t)b->data[6];
    if (has_records(type))
        poke_u32(b->data + UPGRADE_HEADER_LEN, (uint32_t)b->n_items);
}

void upgrade_buf_free(struct upgrade_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void upgrade_put_hello(struct upgrade_buf *b, const struct upgrade_hello *h)
{
    put_str(b, h->version);
    put_u32(b, h->pid);
}

void upgrade_put_state(struct upgrade_buf *b, const struct upgrade_state *s)
{
    put_str(b, s->version);
    put_str(b, s->server_id);
    put_u8(b, s->has_listener);
    put_u8(b, s->has_admin);
    put_str(b, s->admin_bound);
    put_u64(b, s->next_conn_id);
    put_u64(b, s->next_match_id);
    put_u32(b, s->n_conns);
    put_u32(b, s->n_matches);
}

void upgrade_put_conn(struct upgrade_buf *b, const struct upgrade_conn *c)
{
    put_u32(b, c->fd_index);
    put_u64(b, c->id);
    put(b, c->addr, 16);
    put_u16(b, c->port);
    put_u8(b, (uint8_t)(c->is_admitted | c->is_admin << 1 |
                        c->is_relayed << 2 | c->has_name << 3 |
                        c->is_registered << 4 | c->is_closing << 5));
    put_u8(b, c->state);
    put_u32(b, c->sniff_ms);
    put_u32(b, c->nick_ms);
    put_u32(b, c->line_ms);
    put_u64(b, c->bucket_milli);
    put_u32(b, c->bucket_age_ms);
    put_u32(b, c->n_limited_in_row);
    put_str(b, c->name);
    put_str(b, c->token);
    put_str(b, c->seed);
    put_str(b, c->key);
    put_u64(b, c->match_id);
    put_u8(b, c->seat);
    put_u64(b, c->watch_id);
    put_bytes(b, c->in, c->in_len);
    put_bytes(b, c->out, c->out_len);
    b->n_items++;
}

void upgrade_put_match(struct upgrade_buf *b, const struct upgrade_match *m)
{
    put_u64(b, m->id);
    put_u8(b, m->is_playing);
    put_u8(b, m->n_seats);
    put_u32(b, m->turn_ms);
    for (int i = 0; i < UPGRADE_MAX_SEATS; i++)
        put_u32(b, m->grace_ms[i]);
    put_str(b, m->game);
    put(b, m->secret, sizeof m->secret);
    put_u32(b, m->wait_ms);
    put_str(b, m->owner_key);
    put(b, m->bot, sizeof m->bot);
    b->n_items++;
}

void upgrade_put_cluster(struct upgrade_buf *b,
                         const struct upgrade_cluster_rec *r)
{
    put_u8(b, r->kind);
    switch (r->kind) {
    case UPGRADE_C_NODE:
        put_str(b, r->incarnation);
        put_u64(b, r->next_id);
        put_u64(b, r->last_id);
        put_u64(b, r->spare_next);
        put_u64(b, r->spare_last);
        break;
    case UPGRADE_C_OUTSEQ:
        put_str(b, r->node);
        put_u64(b, r->seq);
        break;
    case UPGRADE_C_INSEQ:
        put_str(b, r->node);
        put_str(b, r->incarnation);
        put_u64(b, r->seq);
        break;
    case UPGRADE_C_OWNED:
        put_u64(b, r->id);
        put_u64(b, r->epoch);
        put_u8(b, r->is_owned);
        break;
    case UPGRADE_C_PROXY:
        put_str(b, r->node);
        put_u64(b, r->id);
        put_u8(b, (uint8_t)(r->has_name | r->is_registered << 1));
        put_str(b, r->name);
        put_str(b, r->token);
        put_str(b, r->seed);
        put_str(b, r->key);
        put_u64(b, r->match_id);
        put_u8(b, r->seat);
        put_u64(b, r->watch_id);
        break;
    case UPGRADE_C_REMOTE:
        put_str(b, r->node);
        put_u64(b, r->id);
        put_u8(b, r->is_queued);
        break;
    default:
        break;
    }
    b->n_items++;
}

void upgrade_put_queued(struct upgrade_buf *b, const struct upgrade_queued *q)
{
    put_u64(b, q->conn_id);
    put_str(b, q->game);
    put_u8(b, q->n_seats);
    put_u32(b, (uint32_t)q->rating);
    put_u32(b, q->waited_ms);
    b->n_items++;
}

void upgrade_put_tls_pending(struct upgrade_buf *b, uint64_t conn_id)
{
    put_u64(b, conn_id);
    b->n_items++;
}

void upgrade_put_ready(struct upgrade_buf *b, const struct upgrade_ready *r)
{
    put_u32(b, r->n_conns);
    put_u32(b, r->n_matches);
}

void upgrade_put_fail(struct upgrade_buf *b, const char *why)
{
    char w[sizeof ((struct upgrade_fail *)0)->why];
    /* truncated to what the reader accepts */
    size_t n = strlen(why);
    if (n >= sizeof w)
        n = sizeof w - 1;
    memcpy(w, why, n);
    w[n] = '\0';
    put_str(b, w);
}

/* ---------- reading ---------- */

struct cursor {
    const uint8_t *p;
    size_t left;
    bool is_bad;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
    if (c->is_bad || n > c->left) {
        c->is_bad = true;
        return NULL;
    }
    const uint8_t *at = c->p;
    c->p += n;
    c->left -= n;
    return at;
}

static uint8_t get_u8(struct cursor *c)
{
    const uint8_t *p = take(c, 1);
    return p ? p[0] : 0;
}

static uint16_t get_u16(struct cursor *c)
{
    const uint8_t *p = take(c, 2);
    return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static uint32_t get_u32(struct cursor *c)
{
    const uint8_t *p = take(c, 4);
    uint32_t v = 0;
    for (int i = 0; p != NULL && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(struct cursor *c)
{
    const uint8_t *p = take(c, 8);
    uint64_t v = 0;
    for (int i = 0; p != NULL && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool get_bool(struct cursor *c)
{
    uint8_t v = get_u8(c);
    if (v > 1)
        c->is_bad = true;
    return v == 1;
}

/* A short string into out[cap] (NUL-terminated); longer than cap - 1, or
 * holding a NUL, is malformed. */
static void get_str(struct cursor *c, char *out, size_t cap)
{
    uint16_t n = get_u16(c);
    const uint8_t *p = n < cap ? take(c, n) : NULL;

    out[0] = '\0';
    if (n >= cap || (n > 0 && p == NULL) || (p && memchr(p, 0, n))) {
        c->is_bad = true;
        return;
    }
    if (n > 0)
        memcpy(out, p, n);
    out[n] = '\0';
}

static const char *get_bytes(struct cursor *c, uint32_t max, uint32_t *len)
{
    uint32_t n = get_u32(c);
    *len = 0;
    if (n > max) {
        c->is_bad = true;
        return NULL;
    }
    const uint8_t *p = take(c, n);
    if (p == NULL)
        return NULL;
    *len = n;
    return (const char *)p;
}

static bool all_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static void get_conn(struct cursor *cur, struct upgrade_conn *c)
{
    memset(c, 0, sizeof *c);
    c->fd_index = get_u32(cur);
    c->id = get_u64(cur);
    const uint8_t *a = take(cur, 16);
    if (a != NULL)
        memcpy(c->addr, a, 16);
    c->port = get_u16(cur);
    uint8_t flags = get_u8(cur);
    if (flags >> 6)
        cur->is_bad = true;
    c->is_admitted = flags & 1;
    c->is_admin = flags >> 1 & 1;
    c->is_relayed = flags >> 2 & 1;
    c->has_name = flags >> 3 & 1;
    c->is_registered = flags >> 4 & 1;
    c->is_closing = flags >> 5 & 1;
    c->state = get_u8(cur);
    if (c->state > UPGRADE_WS)
        cur->is_bad = true;
    c->sniff_ms = get_u32(cur);
    c->nick_ms = get_u32(cur);
    c->line_ms = get_u32(cur);
    c->bucket_milli = get_u64(cur);
    c->bucket_age_ms = get_u32(cur);
    c->n_limited_in_row = get_u32(cur);
    get_str(cur, c->name, sizeof c->name);
    get_str(cur, c->token, sizeof c->token);
    get_str(cur, c->seed, sizeof c->seed);
    get_str(cur, c->key, sizeof c->key);
    c->match_id = get_u64(cur);
    c->seat = get_u8(cur);
    c->watch_id = get_u64(cur);
    c->in = get_bytes(cur, UPGRADE_MAX_IN, &c->in_len);
    c->out = get_bytes(cur, UPGRADE_MAX_OUT, &c->out_len);
    /* Consistency: a name has a full token; a seat is in range; seated
     * and watching exclude each other; the admin port is HTTP only. */
    if (c->has_name != (c->name[0] != '\0') ||
        (c->has_name && (strlen(c->token) != UPGRADE_TOKEN_LEN ||
                         !all_hex(c->token))) ||
        (!c->has_name && (c->token[0] != '\0' || c->is_registered ||
                          c->match_id != 0)) ||
        !all_hex(c->seed) || c->seat >= UPGRADE_MAX_SEATS ||
        (c->match_id == 0 && c->seat != 0) ||
        (c->match_id != 0 && c->watch_id != 0) ||
        (c->is_admin && (c->state != UPGRADE_HTTP || c->is_admitted)) ||
        c->id == 0)
        cur->is_bad = true;
}

static void get_match(struct cursor *cur, struct upgrade_match *m)
{
    memset(m, 0, sizeof *m);
    m->id = get_u64(cur);
    m->is_playing = get_bool(cur);
    m->n_seats = get_u8(cur);
    m->turn_ms = get_u32(cur);
    for (int i = 0; i < UPGRADE_MAX_SEATS; i++)
        m->grace_ms[i] = get_u32(cur);
    get_str(cur, m->game, sizeof m->game);
    const uint8_t *s = take(cur, sizeof m->secret);
    if (s != NULL)
        memcpy(m->secret, s, sizeof m->secret);
    m->wait_ms = get_u32(cur);
    get_str(cur, m->owner_key, sizeof m->owner_key);
    const uint8_t *b = take(cur, sizeof m->bot);
    if (b != NULL)
        memcpy(m->bot, b, sizeof m->bot);
    if (m->id == 0 || m->n_seats < 1 || m->n_seats > UPGRADE_MAX_SEATS)
        cur->is_bad = true;
    for (int i = 0; i < UPGRADE_MAX_SEATS; i++)
        if (m->bot[i] > 3 || (i >= m->n_seats && m->bot[i] != 0))
            cur->is_bad = true;
}

/* A node id: 1 to 39 of [A-Za-z0-9_-] (cluster/cluster.h). */
static bool is_node_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= UPGRADE_NODE_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

static void get_cluster(struct cursor *cur, struct upgrade_cluster_rec *r)
{
    memset(r, 0, sizeof *r);
    r->kind = get_u8(cur);
    switch (r->kind) {
    case UPGRADE_C_NODE:
        get_str(cur, r->incarnation, sizeof r->incarnation);
        r->next_id = get_u64(cur);
        r->last_id = get_u64(cur);
        r->spare_next = get_u64(cur);
        r->spare_last = get_u64(cur);
        if (r->incarnation[0] == '\0' || !all_hex(r->incarnation) ||
            (r->next_id != 0 && r->next_id > r->last_id + 1) ||
            (r->spare_next != 0 && r->spare_next > r->spare_last))
            cur->is_bad = true;
        break;
    case UPGRADE_C_OUTSEQ:
        get_str(cur, r->node, sizeof r->node);
        r->seq = get_u64(cur);
        if (!cur->is_bad && !is_node_id(r->node))
            cur->is_bad = true;
        break;
    case UPGRADE_C_INSEQ:
        get_str(cur, r->node, sizeof r->node);
        get_str(cur, r->incarnation, sizeof r->incarnation);
        r->seq = get_u64(cur);
        if (!cur->is_bad && (!is_node_id(r->node) || r->incarnation[0] == '\0' ||
                             !all_hex(r->incarnation)))
            cur->is_bad = true;
        break;
    case UPGRADE_C_OWNED:
        r->id = get_u64(cur);
        r->epoch = get_u64(cur);
        r->is_owned = get_bool(cur);
        if (r->id == 0)
            cur->is_bad = true;
        break;
    case UPGRADE_C_PROXY: {
        get_str(cur, r->node, sizeof r->node);
        r->id = get_u64(cur);
        uint8_t flags = get_u8(cur);
        if (flags >> 2)
            cur->is_bad = true;
        r->has_name = flags & 1;
        r->is_registered = flags >> 1 & 1;
        get_str(cur, r->name, sizeof r->name);
        get_str(cur, r->token, sizeof r->token);
        get_str(cur, r->seed, sizeof r->seed);
        get_str(cur, r->key, sizeof r->key);
        r->match_id = get_u64(cur);
        r->seat = get_u8(cur);
        r->watch_id = get_u64(cur);
        /* as a CONNS record's member (get_conn) */
        if (cur->is_bad || !is_node_id(r->node) || r->id == 0 ||
            r->has_name != (r->name[0] != '\0') ||
            (r->has_name && (strlen(r->token) != UPGRADE_TOKEN_LEN ||
                             !all_hex(r->token))) ||
            (!r->has_name && (r->token[0] != '\0' || r->is_registered ||
                              r->match_id != 0)) ||
            !all_hex(r->seed) || r->seat >= UPGRADE_MAX_SEATS ||
            (r->match_id == 0 && r->seat != 0) ||
            (r->match_id != 0 && r->watch_id != 0))
            cur->is_bad = true;
        break;
    }
    case UPGRADE_C_REMOTE:
        get_str(cur, r->node, sizeof r->node);
        r->id = get_u64(cur);
        r->is_queued = get_bool(cur);
        if (!cur->is_bad && (!is_node_id(r->node) || r->id == 0))
            cur->is_bad = true;
        break;
    default:
        cur->is_bad = true;
        break;
    }
}

static void get_queued(struct cursor *cur, struct upgrade_queued *q)
{
    memset(q, 0, sizeof *q);
    q->conn_id = get_u64(cur);
    get_str(cur, q->game, sizeof q->game);
    q->n_seats = get_u8(cur);
    q->rating = (int32_t)get_u32(cur);
    q->waited_ms = get_u32(cur);
    /* a rating far outside any game's (PROTOCOL §14) is not one */
    if (q->conn_id == 0 || q->game[0] == '\0' || q->n_seats < 1 ||
        q->n_seats > UPGRADE_MAX_SEATS || q->rating < -100000 ||
        q->rating > 100000)
        cur->is_bad = true;
}

static void get_tls_pending(struct cursor *cur, uint64_t *conn_id)
{
    *conn_id = get_u64(cur);
    if (*conn_id == 0)
        cur->is_bad = true;
}

int upgrade_parse(const char *data, size_t len, size_t n_fds,
                  struct upgrade_msg_view *v, const char **why)
{
    struct cursor cur = {(const uint8_t *)data, len, false};
    const uint8_t *magic = take(&cur, 4);

    memset(v, 0, sizeof *v);
    *why = "truncated header";
    if (magic == NULL || len < UPGRADE_HEADER_LEN)
        return -1;
    *why = "not an upgrade message";
    if (memcmp(magic, "TVUP", 4) != 0)
        return -1;
    *why = "another format version";
    if (get_u16(&cur) != UPGRADE_WIRE_VERSION)
        return -1;
    uint8_t type = get_u8(&cur);
    uint8_t zero = get_u8(&cur);
    uint32_t plen = get_u32(&cur);
    *why = "bad header";
    if (type < UPGRADE_HELLO || type > UPGRADE_TLS_PENDING || zero != 0 ||
        plen != cur.left || plen > UPGRADE_MAX_PAYLOAD)
        return -1;
    v->type = (enum upgrade_msg)type;
    if (type != UPGRADE_CONNS && type != UPGRADE_STATE && n_fds > 0) {
        *why = "descriptors with a message that carries none";
        return -1;
    }
    *why = "malformed payload";
    switch (v->type) {
    case UPGRADE_HELLO:
        get_str(&cur, v->u.hello.version, sizeof v->u.hello.version);
        v->u.hello.pid = get_u32(&cur);
        break;
    case UPGRADE_STATE: {
        struct upgrade_state *s = &v->u.state;
        get_str(&cur, s->version, sizeof s->version);
        get_str(&cur, s->server_id, sizeof s->server_id);
        s->has_listener = get_bool(&cur);
        s->has_admin = get_bool(&cur);
        get_str(&cur, s->admin_bound, sizeof s->admin_bound);
        s->next_conn_id = get_u64(&cur);
        s->next_match_id = get_u64(&cur);
        s->n_conns = get_u32(&cur);
        s->n_matches = get_u32(&cur);
        if (!cur.is_bad && n_fds != (size_t)s->has_listener + s->has_admin) {
            *why = "listeners without their descriptors";
            return -1;
        }
        break;
    }
    case UPGRADE_CONNS:
    case UPGRADE_MATCHES:
    case UPGRADE_CLUSTER: {
        v->n_items = get_u32(&cur);
        v->items = (const char *)cur.p;
        v->items_len = cur.left;
        /* Every record now, so that the iteration cannot fail later. */
        bool used[UPGRADE_MAX_FDS] = {false};
        for (uint32_t i = 0; i < v->n_items && !cur.is_bad; i++) {
            if (type == UPGRADE_CONNS) {
                struct upgrade_conn c;
                get_conn(&cur, &c);
                if (c.fd_index >= n_fds || c.fd_index >= UPGRADE_MAX_FDS ||
                    used[c.fd_index]) {
                    *why = "a connection without its descriptor";
                    return -1;
                }
                used[c.fd_index] = true;
            } else if (type == UPGRADE_MATCHES) {
                struct upgrade_match m;
                get_match(&cur, &m);
            } else {
                struct upgrade_cluster_rec r;
                get_cluster(&cur, &r);
            }
        }
        if (type == UPGRADE_CONNS && !cur.is_bad && n_fds != v->n_items) {
            *why = "descriptors without a connection";
            return -1;
        }
        break;
    }
    case UPGRADE_QUEUE:
    case UPGRADE_TLS_PENDING: {
        v->n_items = get_u32(&cur);
        v->items = (const char *)cur.p;
        v->items_len = cur.left;
        for (uint32_t i = 0; i < v->n_items && !cur.is_bad; i++) {
            if (type == UPGRADE_QUEUE) {
                struct upgrade_queued q;
                get_queued(&cur, &q);
            } else {
                uint64_t id;
                get_tls_pending(&cur, &id);
            }
        }
        break;
    }
    case UPGRADE_READY:
        v->u.ready.n_conns = get_u32(&cur);
        v->u.ready.n_matches = get_u32(&cur);
        break;
    case UPGRADE_FAIL:
        get_str(&cur, v->u.fail.why, sizeof v->u.fail.why);
        break;
    case UPGRADE_END:
    case UPGRADE_GO:
        break;
    }
    if (cur.is_bad || cur.left != 0)
        return -1;
    *why = NULL;
    return 0;
}

int upgrade_next_conn(const struct upgrade_msg_view *v, size_t *pos,
                      struct upgrade_conn *c)
{
    if (*pos >= v->items_len)
        return 0;
    struct cursor cur = {(const uint8_t *)v->items + *pos, v->items_len - *pos,
                         false};
    get_conn(&cur, c);
    *pos = v->items_len - cur.left;
    return cur.is_bad ? 0 : 1;
}

int upgrade_next_match(const struct upgrade_msg_view *v, size_t *pos,
                       struct upgrade_match *m)
{
    if (*pos >= v->items_len)
        return 0;
    struct cursor cur = {(const uint8_t *)v->items + *pos, v->items_len - *pos,
                         false};
    get_match(&cur, m);
    *pos = v->items_len - cur.left;
    return cur.is_bad ? 0 : 1;
}

int upgrade_next_cluster(const struct upgrade_msg_view *v, size_t *pos,
                         struct upgrade_cluster_rec *r)
{
    if (*pos >= v->items_len)
        return 0;
    struct cursor cur = {(const uint8_t *)v->items + *pos, v->items_len - *pos,
                         false};
    get_cluster(&cur, r);
    *pos = v->items_len - cur.left;
    return cur.is_bad ? 0 : 1;
}

int upgrade_next_queued(const struct upgrade_msg_view *v, size_t *pos,
                        struct upgrade_queued *q)
{
    if (*pos >= v->items_len)
        return 0;
    struct cursor cur = {(const uint8_t *)v->items + *pos, v->items_len - *pos,
                         false};
    get_queued(&cur, q);
    *pos = v->items_len - cur.left;
    return cur.is_bad ? 0 : 1;
}

int upgrade_next_tls_pending(const struct upgrade_msg_view *v, size_t *pos,
                             uint64_t *conn_id)
{
    if (*pos >= v->items_len)
        return 0;
    struct cursor cur = {(const uint8_t *)v->items + *pos, v->items_len - *pos,
                         false};
    get_tls_pending(&cur, conn_id);
    *pos = v->items_len - cur.left;
    return cur.is_bad ? 0 : 1;
}
