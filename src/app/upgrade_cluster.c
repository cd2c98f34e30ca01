/*
 * upgrade_cluster: see upgrade_cluster.h.
 */
#include "app/upgrade_cluster.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/relay.h"
#include "app/server.h"
#include "app/session.h"
#include "app/session_internal.h"
#include "app/upgrade_wire.h"
#include "base/log.h"
#include "base/mem.h"
#include "cluster/cluster.h"
#include "game/lobby_upgrade.h"
#include "net/conn.h"

/* ---------- the old process ---------- */

const char *upgrade_cluster_unsettled(struct server *srv, uint64_t child_pid)
{
    if (srv->cluster == NULL)
        return NULL;
    if (!cluster_saw_marker(srv->cluster, child_pid))
        return "the new process's relay subscription not seen yet";
    if (!cluster_is_quiet(srv->cluster))
        return "relay messages or Redis commands in flight";
    for (size_t i = 0; i < srv->proxies.n_slots; i++) {
        struct session *s = strmap_slot_value(&srv->proxies, i);
        if (s == NULL)
            continue;
        if (s->is_waiting)
            return "a relayed command waiting for its answer";
        if (quick_is_queued(s))
            return "a player is in the quick-play queue";
    }
    for (size_t i = 0; i < srv->remotes.n_slots; i++) {
        struct session *s = strmap_slot_value(&srv->remotes, i);
        if (s != NULL && (s->is_coming_home || s->conn == NULL))
            return "a member coming back to this node";
    }
    return NULL;
}

bool upgrade_cluster_marker_late(struct server *srv, uint64_t child_pid,
                                 uint64_t waited_ms)
{
    return srv->cluster != NULL && !cluster_saw_marker(srv->cluster, child_pid) &&
           waited_ms > srv->cfg->redis_timeout_ms;
}

int upgrade_cluster_renew(struct server *srv, uint32_t *window_ms,
                          const char **why)
{
    if (srv->cluster == NULL)
        return 0;
    if (cluster_renew_now(srv->cluster, why) != 0)
        return -1;
    /* the lease holds 0.9 of lease_ms from now (cluster_lease_ok); the
     * old process must be back renewing well before */
    *window_ms = cluster_lease_ms(srv->cluster) * 6 / 10;
    return 0;
}

void upgrade_cluster_capture(struct server *srv)
{
    if (srv->cluster != NULL)
        cluster_hold(srv->cluster);
}

void upgrade_cluster_release(struct server *srv)
{
    if (srv->cluster != NULL)
        cluster_release(srv->cluster);
}

void upgrade_cluster_leave(struct server *srv)
{
    if (srv->cluster == NULL)
        return;
    cluster_free_for_successor(srv->cluster);
    srv->cluster = NULL;
}

struct builder {
    struct upgrade_buf *msgs;
    size_t n;
};

static struct upgrade_buf *cur(struct builder *b)
{
    struct upgrade_buf *m = &b->msgs[b->n - 1];
    if (m->len > UPGRADE_MAX_PAYLOAD / 2) {
        upgrade_finish(m);
        b->msgs = mem_realloc(b->msgs, (b->n + 1) * sizeof *b->msgs);
        m = &b->msgs[b->n++];
        memset(m, 0, sizeof *m);
        upgrade_begin(m, UPGRADE_CLUSTER);
    }
    return m;
}

int upgrade_cluster_build(struct server *srv, struct upgrade_buf **out,
                          const char **why)
{
    struct builder b = {mem_calloc(1, sizeof *b.msgs), 1};
    struct cluster_handover h;
    struct upgrade_cluster_rec r;

    *why = NULL;
    upgrade_begin(&b.msgs[0], UPGRADE_CLUSTER);
    cluster_handover_export(srv->cluster, &h);
    memset(&r, 0, sizeof r);
    r.kind = UPGRADE_C_NODE;
    snprintf(r.incarnation, sizeof r.incarnation, "%s", h.incarnation);
    r.next_id = h.next_id;
    r.last_id = h.last_id;
    r.spare_next = h.spare_next;
    r.spare_last = h.spare_last;
    upgrade_put_cluster(cur(&b), &r);
    for (size_t i = 0; i < h.n_out; i++) {
        memset(&r, 0, sizeof r);
        r.kind = UPGRADE_C_OUTSEQ;
        snprintf(r.node, sizeof r.node, "%s", h.out[i].node);
        r.seq = h.out[i].seq;
        upgrade_put_cluster(cur(&b), &r);
    }
    for (size_t i = 0; i < h.n_in; i++) {
        memset(&r, 0, sizeof r);
        r.kind = UPGRADE_C_INSEQ;
        snprintf(r.node, sizeof r.node, "%s", h.in[i].node);
        snprintf(r.incarnation, sizeof r.incarnation, "%s",
                 h.in[i].incarnation);
        r.seq = h.in[i].seq;
        upgrade_put_cluster(cur(&b), &r);
    }
    for (size_t i = 0; i < h.n_owned; i++) {
        memset(&r, 0, sizeof r);
        r.kind = UPGRADE_C_OWNED;
        r.id = h.owned[i].id;
        r.epoch = h.owned[i].epoch;
        r.is_owned = h.owned[i].is_owned;
        upgrade_put_cluster(cur(&b), &r);
    }
    cluster_handover_free(&h);
    for (size_t i = 0; i < srv->proxies.n_slots; i++) {
        struct session *s = strmap_slot_value(&srv->proxies, i);
        if (s == NULL || !s->is_proxy_open)
            continue;
        memset(&r, 0, sizeof r);
        r.kind = UPGRADE_C_PROXY;
        snprintf(r.node, sizeof r.node, "%s", s->gw);
        r.id = s->gw_conn;
        if (s->member != NULL) {
            struct lobby_member_state st;
            lobby_member_export(s->member, &st);
            r.has_name = st.name[0] != '\0';
            r.is_registered = st.is_registered && r.has_name;
            memcpy(r.name, st.name, sizeof r.name);
            memcpy(r.token, st.token, sizeof r.token);
            memcpy(r.seed, st.seed, sizeof r.seed);
            memcpy(r.key, st.key, sizeof r.key);
            r.match_id = st.match_id;
            r.seat = (uint8_t)st.seat;
            r.watch_id = st.watch_id;
        }
        upgrade_put_cluster(cur(&b), &r);
    }
    for (size_t i = 0; i < srv->remotes.n_slots; i++) {
        struct session *s = strmap_slot_value(&srv->remotes, i);
        if (s == NULL || s->conn == NULL || s->home[0] == '\0')
            continue;
        memset(&r, 0, sizeof r);
        r.kind = UPGRADE_C_REMOTE;
        snprintf(r.node, sizeof r.node, "%s", s->home);
        r.id = s->conn->id;
        r.is_queued = s->is_queued_remote;
        upgrade_put_cluster(cur(&b), &r);
    }
    upgrade_finish(&b.msgs[b.n - 1]);
    *out = b.msgs;
    return (int)b.n;
}

/* ---------- the new process ---------- */

static struct {
    bool is_active, has_node;
    struct cluster_bridge *bridge;
    struct cluster_handover h;
    struct upgrade_cluster_rec *sessions; /* PROXY and REMOTE */
    size_t n_sessions;
} child;

int upgrade_cluster_child_begin(struct server *srv, const char **why)
{
    static char err[256];
    const char *node = getenv(UPGRADE_NODE_ENV);

    if (node == NULL)
        return 0;
    char id[CLUSTER_NODE_MAX];
    snprintf(id, sizeof id, "%s", node);
    unsetenv(UPGRADE_NODE_ENV); /* not for a later upgrade's child */
    if (srv->cfg->redis == NULL) {
        *why = "the old process is a cluster node and this one is not";
        return -1;
    }
    child.is_active = true;
    child.bridge = cluster_bridge_open(srv->cfg->redis, id,
                                       (uint64_t)getpid(),
                                       srv->cfg->redis_timeout_ms, err,
                                       sizeof err);
    if (child.bridge == NULL) {
        *why = err;
        return -1;
    }
    return 0;
}

bool upgrade_cluster_child_active(void)
{
    return child.is_active;
}

static void push_seq(struct cluster_seq **a, size_t *n,
                     const struct upgrade_cluster_rec *r)
{
    *a = mem_realloc(*a, (*n + 1) * sizeof **a);
    struct cluster_seq *s = &(*a)[(*n)++];
    memset(s, 0, sizeof *s);
    snprintf(s->node, sizeof s->node, "%s", r->node);
    snprintf(s->incarnation, sizeof s->incarnation, "%s", r->incarnation);
    s->seq = r->seq;
}

void upgrade_cluster_child_take(const struct upgrade_msg_view *v)
{
    struct upgrade_cluster_rec r;
    size_t pos = 0;

    while (upgrade_next_cluster(v, &pos, &r) == 1) {
        switch (r.kind) {
        case UPGRADE_C_NODE:
            child.has_node = true;
            snprintf(child.h.incarnation, sizeof child.h.incarnation, "%s",
                     r.incarnation);
            child.h.next_id = r.next_id;
            child.h.last_id = r.last_id;
            child.h.spare_next = r.spare_next;
            child.h.spare_last = r.spare_last;
            break;
        case UPGRADE_C_OUTSEQ:
            push_seq(&child.h.out, &child.h.n_out, &r);
            break;
        case UPGRADE_C_INSEQ:
            push_seq(&child.h.in, &child.h.n_in, &r);
            break;
        case UPGRADE_C_OWNED:
            child.h.owned = mem_realloc(child.h.owned, (child.h.n_owned + 1) *
                                                           sizeof *child.h.owned);
            child.h.owned[child.h.n_owned++] =
                (struct cluster_owned_match){r.id, r.epoch, r.is_owned};
            break;
        default: /* PROXY, REMOTE: after the connections */
            child.sessions = mem_realloc(child.sessions, (child.n_sessions + 1) *
                                                             sizeof *child.sessions);
            child.sessions[child.n_sessions++] = r;
            break;
        }
    }
}

int upgrade_cluster_child_import(struct server *srv, const char **why)
{
    if (!child.is_active && !child.has_node && srv->cluster == NULL)
        return 0; /* one node to one node */
    if (srv->cluster != NULL && !child.is_active) {
        *why = "this process is a cluster node and the old one is not";
        return -1;
    }
    if (srv->cluster == NULL || !child.has_node || child.bridge == NULL) {
        *why = "the old and the new process disagree about the cluster";
        return -1;
    }
    struct cluster_bridge *b = child.bridge;
    child.bridge = NULL; /* the cluster's now */
    if (cluster_handover_import(srv->cluster, &child.h, b, why) != 0)
        return -1;
    log_event(LOG_INFO, "upgrade.cluster", "node=%s owned=%zu proxies_and_"
              "gateways=%zu peers_in=%zu peers_out=%zu",
              cluster_node_id(srv->cluster), child.h.n_owned,
              child.n_sessions, child.h.n_in, child.h.n_out);
    return 0;
}

static struct session *session_of_conn(struct server *srv, uint64_t id)
{
    for (struct conn *c = srv->conns.all; c != NULL; c = c->next)
        if (c->id == id)
            return c->user;
    return NULL;
}

unsigned upgrade_cluster_child_adopt(struct server *srv)
{
    unsigned n_lost = 0;

    for (size_t i = 0; i < child.n_sessions; i++) {
        const struct upgrade_cluster_rec *r = &child.sessions[i];
        if (r->kind == UPGRADE_C_PROXY) {
            struct lobby_member_state st;
            memset(&st, 0, sizeof st);
            st.is_registered = r->is_registered;
            memcpy(st.name, r->name, sizeof st.name);
            memcpy(st.token, r->token, sizeof st.token);
            memcpy(st.seed, r->seed, sizeof st.seed);
            memcpy(st.key, r->key, sizeof st.key);
            st.match_id = r->match_id;
            st.seat = r->seat;
            st.watch_id = r->watch_id;
            if (relay_proxy_adopt(srv, r->node, r->id, &st) != 0) {
                log_event(LOG_WARN, "upgrade.proxy_lost", "gw=%s conn=%" PRIu64
                          " name=%s", r->node, r->id, r->name);
                n_lost++;
            }
        } else {
            struct session *s = session_of_conn(srv, r->id);
            if (s == NULL || s->is_proxy) {
                log_event(LOG_WARN, "upgrade.gateway_lost", "conn=%" PRIu64
                          " home=%s", r->id, r->node);
                n_lost++;
                continue;
            }
            relay_remote_adopt(s, r->node, r->is_queued);
        }
    }
    return n_lost;
}

void upgrade_cluster_child_done(struct server *srv)
{
    if (srv->cluster != NULL)
        cluster_handover_done(srv->cluster);
    upgrade_cluster_child_free();
}

void upgrade_cluster_child_free(void)
{
    cluster_bridge_close(child.bridge);
    child.bridge = NULL;
    cluster_handover_free(&child.h);
    free(child.sessions);
    child.sessions = NULL;
    child.n_sessions = 0;
}
