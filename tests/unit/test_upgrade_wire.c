/* Unit tests for app/upgrade_wire: every message round-trips field by
 * field; the parser refuses another version, a wrong length, bytes left
 * over, every truncation (placed before a guard page, so an over-read
 * crashes), fds that do not match the records, and out-of-range fields. */
#include "check.h"

#include "app/upgrade_wire.h"

static struct upgrade_conn sample_conn(uint32_t fd_index, uint64_t id)
{
    struct upgrade_conn c;
    memset(&c, 0, sizeof c);
    c.fd_index = fd_index;
    c.id = id;
    for (int i = 0; i < 16; i++)
        c.addr[i] = (uint8_t)(i * 7);
    c.port = 54321;
    c.is_admitted = true;
    c.state = UPGRADE_WS;
    c.sniff_ms = UPGRADE_NONE_MS;
    c.nick_ms = 1234;
    c.line_ms = 99;
    c.bucket_milli = 19500;
    c.bucket_age_ms = 17;
    c.n_limited_in_row = 3;
    c.has_name = true;
    c.is_registered = true;
    strcpy(c.name, "alice_01");
    strcpy(c.token, "0123456789abcdef0123456789abcdef");
    strcpy(c.seed, "beef");
    strcpy(c.key, "127.0.0.1");
    c.match_id = 42;
    c.seat = 1;
    c.in = "PLAY 7";
    c.in_len = 6;
    c.out = "EVENT x\nEVENT y\n";
    c.out_len = 16;
    return c;
}

static void check_same_conn(const struct upgrade_conn *a,
                            const struct upgrade_conn *b)
{
    CHECK_INT(a->fd_index, b->fd_index);
    CHECK(a->id == b->id);
    CHECK(memcmp(a->addr, b->addr, 16) == 0);
    CHECK_INT(a->port, b->port);
    CHECK_INT(a->is_admitted, b->is_admitted);
    CHECK_INT(a->is_admin, b->is_admin);
    CHECK_INT(a->is_relayed, b->is_relayed);
    CHECK_INT(a->is_closing, b->is_closing);
    CHECK_INT(a->state, b->state);
    CHECK(a->sniff_ms == b->sniff_ms && a->nick_ms == b->nick_ms &&
          a->line_ms == b->line_ms);
    CHECK(a->bucket_milli == b->bucket_milli);
    CHECK_INT(a->bucket_age_ms, b->bucket_age_ms);
    CHECK_INT(a->n_limited_in_row, b->n_limited_in_row);
    CHECK_INT(a->has_name, b->has_name);
    CHECK_INT(a->is_registered, b->is_registered);
    CHECK_STR(a->name, b->name);
    CHECK_STR(a->token, b->token);
    CHECK_STR(a->seed, b->seed);
    CHECK_STR(a->key, b->key);
    CHECK(a->match_id == b->match_id && a->watch_id == b->watch_id);
    CHECK_INT(a->seat, b->seat);
    CHECK_INT(a->in_len, b->in_len);
    CHECK(memcmp(a->in, b->in, a->in_len) == 0);
    CHECK_INT(a->out_len, b->out_len);
    CHECK(memcmp(a->out, b->out, a->out_len) == 0);
}

/* Copies a message right before a guard page. */
static const char *guarded(const struct upgrade_buf *b, size_t len)
{
    char *end = guard_page_end();
    memcpy(end - len, b->data, len);
    return end - len;
}

TEST(conns_round_trip)
{
    struct upgrade_buf b = {0};
    struct upgrade_conn in[3] = {sample_conn(0, 7), sample_conn(1, 8),
                                 sample_conn(2, 9)};
    struct upgrade_msg_view v;
    const char *why;

    in[1].has_name = false;
    in[1].is_registered = false;
    in[1].name[0] = in[1].token[0] = '\0';
    in[1].match_id = 0;
    in[1].seat = 0;
    in[1].watch_id = 5;
    in[1].in_len = in[1].out_len = 0;
    in[2].is_relayed = true;
    in[2].is_closing = true;
    in[2].state = UPGRADE_LINE;
    upgrade_begin(&b, UPGRADE_CONNS);
    for (int i = 0; i < 3; i++)
        upgrade_put_conn(&b, &in[i]);
    upgrade_finish(&b);
    const char *msg = guarded(&b, b.len);
    CHECK_INT(upgrade_parse(msg, b.len, 3, &v, &why), 0);
    CHECK_INT(v.type, UPGRADE_CONNS);
    CHECK_INT(v.n_items, 3);
    size_t pos = 0;
    struct upgrade_conn out;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(upgrade_next_conn(&v, &pos, &out), 1);
        check_same_conn(&in[i], &out);
    }
    CHECK_INT(upgrade_next_conn(&v, &pos, &out), 0);
    upgrade_buf_free(&b);
}

TEST(state_hello_ready_matches_round_trip)
{
    struct upgrade_buf b = {0};
    struct upgrade_msg_view v;
    const char *why;

    struct upgrade_state s = {.has_listener = true, .has_admin = true,
                              .next_conn_id = 1000, .next_match_id = 77,
                              .n_conns = 5, .n_matches = 2};
    strcpy(s.version, "0.13.0");
    strcpy(s.admin_bound, "127.0.0.1:9100");
    upgrade_begin(&b, UPGRADE_STATE);
    upgrade_put_state(&b, &s);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 2, &v, &why), 0);
    CHECK_STR(v.u.state.version, "0.13.0");
    CHECK_STR(v.u.state.admin_bound, "127.0.0.1:9100");
    CHECK(v.u.state.next_conn_id == 1000 && v.u.state.next_match_id == 77);
    CHECK_INT(v.u.state.n_conns, 5);
    /* the two listeners must come with it */
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);

    struct upgrade_hello h = {.pid = 4242};
    strcpy(h.version, "0.13.0-next");
    upgrade_begin(&b, UPGRADE_HELLO);
    upgrade_put_hello(&b, &h);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), 0);
    CHECK_STR(v.u.hello.version, "0.13.0-next");
    CHECK_INT(v.u.hello.pid, 4242);

    struct upgrade_match m = {.id = 9, .is_playing = false, .n_seats = 2,
                              .turn_ms = UPGRADE_NONE_MS, .wait_ms = 500};
    strcpy(m.game, "briscola");
    m.secret[0] = 0xab;
    m.bot[1] = 2;
    strcpy(m.owner_key, "::1");
    upgrade_begin(&b, UPGRADE_MATCHES);
    upgrade_put_match(&b, &m);
    m.id = 10;
    m.is_playing = true;
    m.turn_ms = 321;
    m.grace_ms[0] = 1000;
    m.bot[1] = 0;
    upgrade_put_match(&b, &m);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), 0);
    size_t pos = 0;
    struct upgrade_match o;
    CHECK_INT(upgrade_next_match(&v, &pos, &o), 1);
    CHECK(o.id == 9 && !o.is_playing && o.wait_ms == 500 && o.bot[1] == 2);
    CHECK_STR(o.game, "briscola");
    CHECK_INT(o.secret[0], 0xab);
    CHECK_STR(o.owner_key, "::1");
    CHECK_INT(upgrade_next_match(&v, &pos, &o), 1);
    CHECK(o.id == 10 && o.is_playing && o.turn_ms == 321 &&
          o.grace_ms[0] == 1000);
    CHECK_INT(upgrade_next_match(&v, &pos, &o), 0);

    struct upgrade_ready r = {.n_conns = 3, .n_matches = 4};
    upgrade_begin(&b, UPGRADE_READY);
    upgrade_put_ready(&b, &r);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), 0);
    CHECK(v.u.ready.n_conns == 3 && v.u.ready.n_matches == 4);
    upgrade_buf_free(&b);
}

TEST(every_truncation_is_refused)
{
    struct upgrade_buf b = {0};
    struct upgrade_conn c = sample_conn(0, 3);
    struct upgrade_msg_view v;
    const char *why;

    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c);
    upgrade_finish(&b);
    for (size_t len = 0; len < b.len; len++) {
        const char *msg = guarded(&b, len);
        if (upgrade_parse(msg, len, 1, &v, &why) != -1)
            FAIL_("a message cut at %zu of %zu bytes was accepted", len, b.len);
    }
    upgrade_buf_free(&b);
}

TEST(version_length_and_leftovers)
{
    struct upgrade_buf b = {0};
    struct upgrade_msg_view v;
    const char *why;

    upgrade_begin(&b, UPGRADE_GO);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), 0);
    CHECK_INT(v.type, UPGRADE_GO);
    b.data[4] = 2; /* version 2 */
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    CHECK_STR(why, "another format version");
    b.data[4] = 1;
    b.data[0] = 'X';
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    b.data[0] = 'T';
    /* a byte more than the header says */
    char more[UPGRADE_HEADER_LEN + 1];
    memcpy(more, b.data, UPGRADE_HEADER_LEN);
    more[UPGRADE_HEADER_LEN] = 0;
    CHECK_INT(upgrade_parse(more, sizeof more, 0, &v, &why), -1);
    /* fds with a message that carries none */
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);
    b.data[6] = 99; /* unknown type */
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    upgrade_buf_free(&b);
}

TEST(fds_must_match_the_records)
{
    struct upgrade_buf b = {0};
    struct upgrade_conn c0 = sample_conn(0, 3), c1 = sample_conn(0, 4);
    struct upgrade_msg_view v;
    const char *why;

    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c0);
    upgrade_put_conn(&b, &c1); /* fd 0 twice */
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 2, &v, &why), -1);
    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c0);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1); /* none */
    CHECK_INT(upgrade_parse(b.data, b.len, 2, &v, &why), -1); /* one spare */
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), 0);
    upgrade_buf_free(&b);
}

TEST(out_of_range_fields)
{
    struct upgrade_buf b = {0};
    struct upgrade_msg_view v;
    const char *why;
    struct upgrade_conn c;

    c = sample_conn(0, 3);
    c.state = 4; /* no such state */
    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);

    c = sample_conn(0, 3);
    c.token[5] = 'Z'; /* not hex */
    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);

    c = sample_conn(0, 3);
    c.watch_id = 9; /* seated and watching */
    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);

    c = sample_conn(0, 3);
    c.seat = 4;
    upgrade_begin(&b, UPGRADE_CONNS);
    upgrade_put_conn(&b, &c);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);

    struct upgrade_match m = {.id = 1, .n_seats = 5};
    upgrade_begin(&b, UPGRADE_MATCHES);
    upgrade_put_match(&b, &m);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    upgrade_buf_free(&b);
}

static struct upgrade_cluster_rec sample_cluster(uint8_t kind)
{
    struct upgrade_cluster_rec r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    switch (kind) {
    case UPGRADE_C_NODE:
        strcpy(r.incarnation, "00112233445566778899aabbccddeeff");
        r.next_id = 1025;
        r.last_id = 2048;
        r.spare_next = 4097;
        r.spare_last = 5120;
        break;
    case UPGRADE_C_OUTSEQ:
        strcpy(r.node, "node-b");
        r.seq = 77;
        break;
    case UPGRADE_C_INSEQ:
        strcpy(r.node, "node_c");
        strcpy(r.incarnation, "ffeeddcc");
        r.seq = 12;
        break;
    case UPGRADE_C_OWNED:
        r.id = 1030;
        r.epoch = 3;
        r.is_owned = true;
        break;
    case UPGRADE_C_PROXY:
        strcpy(r.node, "B");
        r.id = 9;
        r.has_name = r.is_registered = true;
        strcpy(r.name, "bob");
        strcpy(r.token, "0123456789abcdef0123456789abcdef");
        strcpy(r.seed, "cafe");
        strcpy(r.key, "127.0.0.2");
        r.match_id = 1030;
        r.seat = 2;
        break;
    case UPGRADE_C_REMOTE:
        strcpy(r.node, "B");
        r.id = 11;
        r.is_queued = true;
        break;
    }
    return r;
}

TEST(cluster_records_round_trip)
{
    struct upgrade_buf b = {0};
    struct upgrade_msg_view v;
    const char *why;

    upgrade_begin(&b, UPGRADE_CLUSTER);
    for (uint8_t k = UPGRADE_C_NODE; k <= UPGRADE_C_REMOTE; k++) {
        struct upgrade_cluster_rec r = sample_cluster(k);
        upgrade_put_cluster(&b, &r);
    }
    upgrade_finish(&b);
    const char *msg = guarded(&b, b.len);
    CHECK_INT(upgrade_parse(msg, b.len, 0, &v, &why), 0);
    CHECK_INT(v.type, UPGRADE_CLUSTER);
    CHECK_INT(v.n_items, 6);
    size_t pos = 0;
    struct upgrade_cluster_rec out;
    for (uint8_t k = UPGRADE_C_NODE; k <= UPGRADE_C_REMOTE; k++) {
        struct upgrade_cluster_rec in = sample_cluster(k);
        CHECK_INT(upgrade_next_cluster(&v, &pos, &out), 1);
        CHECK_INT(out.kind, in.kind);
        CHECK_STR(out.node, in.node);
        CHECK_STR(out.incarnation, in.incarnation);
        CHECK(out.seq == in.seq && out.id == in.id && out.epoch == in.epoch);
        CHECK(out.next_id == in.next_id && out.last_id == in.last_id &&
              out.spare_next == in.spare_next &&
              out.spare_last == in.spare_last);
        CHECK_INT(out.is_owned, in.is_owned);
        CHECK_INT(out.is_queued, in.is_queued);
        CHECK_INT(out.has_name, in.has_name);
        CHECK_INT(out.is_registered, in.is_registered);
        CHECK_STR(out.name, in.name);
        CHECK_STR(out.token, in.token);
        CHECK_STR(out.seed, in.seed);
        CHECK_STR(out.key, in.key);
        CHECK(out.match_id == in.match_id && out.watch_id == in.watch_id);
        CHECK_INT(out.seat, in.seat);
    }
    CHECK_INT(upgrade_next_cluster(&v, &pos, &out), 0);
    /* every truncation is refused */
    for (size_t len = 0; len < b.len; len++) {
        const char *m = guarded(&b, len);
        if (upgrade_parse(m, len, 0, &v, &why) != -1)
            FAIL_("a CLUSTER message cut at %zu of %zu bytes was accepted",
                  len, b.len);
    }
    /* no descriptors with it */
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);
    upgrade_buf_free(&b);
}

TEST(cluster_records_out_of_range)
{
    struct upgrade_buf b = {0};
    struct upgrade_msg_view v;
    const char *why;
    struct upgrade_cluster_rec r;

    r = sample_cluster(UPGRADE_C_OUTSEQ);
    strcpy(r.node, "no spaces"); /* not a node id */
    upgrade_begin(&b, UPGRADE_CLUSTER);
    upgrade_put_cluster(&b, &r);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);

    r = sample_cluster(UPGRADE_C_NODE);
    r.incarnation[3] = 'Q'; /* not hex */
    upgrade_begin(&b, UPGRADE_CLUSTER);
    upgrade_put_cluster(&b, &r);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);

    r = sample_cluster(UPGRADE_C_PROXY);
    r.watch_id = 4; /* seated and watching */
    upgrade_begin(&b, UPGRADE_CLUSTER);
    upgrade_put_cluster(&b, &r);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);

    r = sample_cluster(UPGRADE_C_OWNED);
    r.kind = 9; /* no such kind */
    upgrade_begin(&b, UPGRADE_CLUSTER);
    upgrade_put_cluster(&b, &r);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    upgrade_buf_free(&b);
}

TEST(queue_and_tls_pending_round_trip)
{
    struct upgrade_buf b = {0};
    struct upgrade_msg_view v;
    const char *why;
    struct upgrade_queued in[2] = {
        {.conn_id = 12, .game = "briscola", .n_seats = 2, .rating = 1500,
         .waited_ms = 2500},
        {.conn_id = 7, .game = "hearts", .n_seats = 4, .rating = -20,
         .waited_ms = 0},
    };

    upgrade_begin(&b, UPGRADE_QUEUE);
    for (int i = 0; i < 2; i++)
        upgrade_put_queued(&b, &in[i]);
    upgrade_finish(&b);
    const char *msg = guarded(&b, b.len);
    CHECK_INT(upgrade_parse(msg, b.len, 0, &v, &why), 0);
    CHECK_INT(v.type, UPGRADE_QUEUE);
    CHECK_INT(v.n_items, 2);
    size_t pos = 0;
    struct upgrade_queued out;
    for (int i = 0; i < 2; i++) { /* in queue order */
        CHECK_INT(upgrade_next_queued(&v, &pos, &out), 1);
        CHECK(out.conn_id == in[i].conn_id);
        CHECK_STR(out.game, in[i].game);
        CHECK_INT(out.n_seats, in[i].n_seats);
        CHECK_INT(out.rating, in[i].rating);
        CHECK_INT(out.waited_ms, in[i].waited_ms);
    }
    CHECK_INT(upgrade_next_queued(&v, &pos, &out), 0);
    /* no descriptors with it; every cut refused */
    CHECK_INT(upgrade_parse(b.data, b.len, 1, &v, &why), -1);
    for (size_t len = 0; len < b.len; len++)
        if (upgrade_parse(guarded(&b, len), len, 0, &v, &why) != -1)
            FAIL_("a QUEUE cut at %zu of %zu bytes was accepted", len, b.len);
    /* out of range: no connection, seats, rating */
    struct upgrade_queued bad[3] = {in[0], in[0], in[0]};
    bad[0].conn_id = 0;
    bad[1].n_seats = 5;
    bad[2].rating = 1000000;
    for (int i = 0; i < 3; i++) {
        upgrade_begin(&b, UPGRADE_QUEUE);
        upgrade_put_queued(&b, &bad[i]);
        upgrade_finish(&b);
        CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    }

    upgrade_begin(&b, UPGRADE_TLS_PENDING);
    upgrade_put_tls_pending(&b, 41);
    upgrade_put_tls_pending(&b, 43);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), 0);
    CHECK_INT(v.type, UPGRADE_TLS_PENDING);
    uint64_t id;
    pos = 0;
    CHECK_INT(upgrade_next_tls_pending(&v, &pos, &id), 1);
    CHECK(id == 41);
    CHECK_INT(upgrade_next_tls_pending(&v, &pos, &id), 1);
    CHECK(id == 43);
    CHECK_INT(upgrade_next_tls_pending(&v, &pos, &id), 0);
    upgrade_begin(&b, UPGRADE_TLS_PENDING);
    upgrade_put_tls_pending(&b, 0);
    upgrade_finish(&b);
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    /* a type past the last one is still unknown */
    upgrade_begin(&b, UPGRADE_GO);
    upgrade_finish(&b);
    b.data[6] = UPGRADE_TLS_PENDING + 1;
    CHECK_INT(upgrade_parse(b.data, b.len, 0, &v, &why), -1);
    upgrade_buf_free(&b);
}
