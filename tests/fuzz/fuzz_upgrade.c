/*
 * fuzz_upgrade: the hand-over parser (app/upgrade_wire.c) on arbitrary
 * bytes: the first byte says how many descriptors "came with" the
 * message, the rest is the message. Whatever it accepts is walked to the
 * end, and every record read must lie inside the message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/upgrade_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct upgrade_msg_view v;
    const char *why;

    if (size < 1)
        return 0;
    size_t n_fds = data[0] % 8;
    /* a private copy, exactly as long: an over-read is ASan's to see */
    char *msg = malloc(size - 1 ? size - 1 : 1);
    memcpy(msg, data + 1, size - 1);
    if (upgrade_parse(msg, size - 1, n_fds, &v, &why) == 0) {
        size_t pos = 0, n = 0;
        if (v.type == UPGRADE_CONNS) {
            struct upgrade_conn c;
            while (upgrade_next_conn(&v, &pos, &c) == 1) {
                if (c.in_len > 0 && (c.in < msg || c.in + c.in_len > msg + size - 1))
                    abort();
                if (c.out_len > 0 &&
                    (c.out < msg || c.out + c.out_len > msg + size - 1))
                    abort();
                if (c.fd_index >= n_fds)
                    abort();
                n++;
            }
        } else if (v.type == UPGRADE_MATCHES) {
            struct upgrade_match m;
            while (upgrade_next_match(&v, &pos, &m) == 1)
                n++;
        } else if (v.type == UPGRADE_CLUSTER) {
            struct upgrade_cluster_rec r;
            while (upgrade_next_cluster(&v, &pos, &r) == 1) {
                if (r.kind < UPGRADE_C_NODE || r.kind > UPGRADE_C_REMOTE ||
                    strlen(r.node) >= sizeof r.node)
                    abort();
                n++;
            }
        } else if (v.type == UPGRADE_QUEUE) {
            struct upgrade_queued q;
            while (upgrade_next_queued(&v, &pos, &q) == 1) {
                if (q.conn_id == 0 || q.n_seats < 1 || q.n_seats > 4)
                    abort();
                n++;
            }
        } else if (v.type == UPGRADE_TLS_PENDING) {
            uint64_t id;
            while (upgrade_next_tls_pending(&v, &pos, &id) == 1) {
                if (id == 0)
                    abort();
                n++;
            }
        }
        if ((v.type == UPGRADE_CONNS || v.type == UPGRADE_MATCHES ||
             v.type == UPGRADE_CLUSTER || v.type == UPGRADE_QUEUE ||
             v.type == UPGRADE_TLS_PENDING) &&
            n != v.n_items)
            abort();
    }
    free(msg);
    return 0;
}
