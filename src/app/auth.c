/*
 * auth: see auth.h.
 */
#include "app/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "app/session_internal.h"
#include "base/log.h"
#include "base/mem.h"
#include "game/lobby.h"
#include "proto/cmd.h"
#include "store/store.h"

/* ---------- NICK, with and without a password ---------- */

#define MAX_AUTH_IN_FLIGHT 32 /* argon2id: 64 MiB and 65 ms each, here */

struct auth {
    uv_work_t req;
    struct session *s;
    char name[LOBBY_NAME_MAX + 1];
    char password[OUT_LINE_CAP];
    size_t password_len;
    char hash[crypto_pwhash_STRBYTES];
    bool is_new, is_ok;
};

static void finish_nick(struct auth *a, bool is_ok, const char *err_code,
                        const char *err_text)
{
    struct session *s = a->s;
    struct server *srv = s->srv;
    char token[LOBBY_TOKEN_LEN + 1];

    strmap_del(&srv->pending_auth, a->name, strlen(a->name));
    srv->n_auth_in_flight--;
    if (s->conn != NULL && s->member != NULL) {
        if (!is_ok) {
            reply_err(s, err_code, err_text);
        } else {
            enum lobby_code rc = lobby_nick(srv->lobby, s->member, a->name,
                                            strlen(a->name), true, token);
            if (rc != LOBBY_OK) {
                reply_code(s, rc);
            } else {
                dq_remove(&s->nick_node);
                reply(s, "OK NICK %s %s", a->name, token);
            }
        }
    }
    answered(s);
    free(a);
}

static void on_registered(struct store_job *job)
{
    struct auth *a = job->ctx;
    struct server *srv = a->s->srv;

    if (job->rc == STORE_OK) {
        server_account_add(srv, a->name, a->hash);
        log_info("account %s registered", a->name);
        finish_nick(a, true, NULL, NULL);
    } else if (job->rc == STORE_EXISTS) {
        finish_nick(a, false, "BADPASS", "that name is registered");
    } else {
        finish_nick(a, false, "INTERNAL", "could not save the account, try again");
    }
    free(job);
}

/* Thread pool: the slow, memory-hard part. */
static void auth_work(uv_work_t *req)
{
    struct auth *a = req->data;

    if (a->is_new)
        a->is_ok = crypto_pwhash_str(a->hash, a->password, a->password_len,
                                     crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                     crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
    else
        a->is_ok = crypto_pwhash_str_verify(a->hash, a->password,
                                            a->password_len) == 0;
    sodium_memzero(a->password, sizeof a->password);
}

static void auth_done(uv_work_t *req, int status)
{
    struct auth *a = req->data;

    if (status != 0 || !a->is_ok) {
        if (a->is_new || status != 0)
            finish_nick(a, false, "INTERNAL", "could not check the password");
        else
            finish_nick(a, false, "BADPASS", "wrong password for that name");
        return;
    }
    if (!a->is_new) {
        finish_nick(a, true, NULL, NULL);
        return;
    }
    if (a->s->srv->store == NULL) { /* the server is shutting down */
        finish_nick(a, false, "INTERNAL", "the server is shutting down");
        return;
    }
    struct store_job *job = mem_calloc(1, sizeof *job);
    job->kind = STORE_JOB_REGISTER;
    snprintf(job->name, sizeof job->name, "%s", a->name);
    snprintf(job->hash, sizeof job->hash, "%s", a->hash);
    job->done = on_registered;
    job->ctx = a;
    store_submit(a->s->srv->store, job);
}

static void nick_with_password(struct session *s, struct cmd_word name,
                               struct cmd_word password)
{
    struct server *srv = s->srv;

    if (srv->store == NULL) {
        reply_err(s, "INTERNAL", "accounts need a data directory");
        return;
    }
    if (srv->n_auth_in_flight >= MAX_AUTH_IN_FLIGHT) {
        reply_err(s, "INTERNAL", "too many logins in progress, try again");
        return;
    }
    struct auth *a = mem_calloc(1, sizeof *a);
    memcpy(a->name, name.s, name.len);
    memcpy(a->password, password.s, password.len);
    a->password_len = password.len;
    const char *hash = server_account_hash(srv, a->name);
    a->is_new = hash == NULL;
    if (hash != NULL)
        snprintf(a->hash, sizeof a->hash, "%s", hash);
    a->s = s;
    a->req.data = a;
    if (uv_queue_work(srv->loop, &a->req, auth_work, auth_done) != 0) {
        sodium_memzero(a, sizeof *a);
        free(a);
        reply_err(s, "INTERNAL", "could not check the password");
        return;
    }
    /* The name is spoken for until the answer, by guests as well. */
    strmap_put(&srv->pending_auth, a->name, a);
    srv->n_auth_in_flight++;
    wait_for_answer(s);
}

void cmd_nick(struct session *s, const struct cmd *c)
{
    char token[LOBBY_TOKEN_LEN + 1];

    if (c->n_args < 1 || c->n_args > 2) {
        reply_err(s, "BADARG", "usage: NICK <name> [password]");
        return;
    }
    struct cmd_word name = c->args[0];
    enum lobby_code rc = lobby_nick_check(s->srv->lobby, s->member, name.s,
                                          name.len);
    if (rc == LOBBY_OK &&
        strmap_get(&s->srv->pending_auth, name.s, name.len) != NULL)
        rc = LOBBY_NAMETAKEN;
    if (rc != LOBBY_OK) {
        reply_code(s, rc);
        return;
    }
    if (c->n_args == 2) {
        nick_with_password(s, name, c->args[1]);
        return;
    }
    char key[LOBBY_NAME_MAX + 1];
    memcpy(key, name.s, name.len);
    key[name.len] = '\0';
    if (server_account_hash(s->srv, key) != NULL) {
        reply_err(s, "BADPASS", "that name is registered: NICK <name> <password>");
        return;
    }
    rc = lobby_nick(s->srv->lobby, s->member, name.s, name.len, false, token);
    if (rc != LOBBY_OK) {
        reply_code(s, rc);
        return;
    }
    dq_remove(&s->nick_node);
    reply(s, "OK NICK %s %s", lobby_member_name(s->member), token);
}

