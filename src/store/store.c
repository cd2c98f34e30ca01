/*
 * store: see store.h.
 *
 * Schema (versioned by PRAGMA user_version; each migration runs in one
 * transaction, so a crash mid-migration leaves the previous version):
 *   1  accounts(name, hash, rating, played, won, lost, drawn, created_at)
 *   2  matches(id, game, n_seats, state, deal, started_at, ended_at,
 *              result, reason, log), seats(match_id, seat, name, token,
 *              registered, points), moves(match_id, seq, seat, card, timeout)
 *   3  matches.secret (PROTOCOL §13: the deal follows from it; deal is
 *      '' in new rows), seats.seed, seats.side (the team or seat the
 *      seat plays for; seat % 2 in older rows, all briscola), moves.kind
 *      (0 play, 1 pass); a move's card column holds every card it
 *      names, space-separated
 */
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "store/rating.h"

static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 1 */
    "CREATE TABLE accounts("
    "  name TEXT PRIMARY KEY,"
    "  hash TEXT NOT NULL,"
    "  rating REAL NOT NULL DEFAULT 1500,"
    "  played INTEGER NOT NULL DEFAULT 0,"
    "  won INTEGER NOT NULL DEFAULT 0,"
    "  lost INTEGER NOT NULL DEFAULT 0,"
    "  drawn INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX accounts_by_rating ON accounts(rating DESC, name);",
    /* 2 */
    "CREATE TABLE matches("
    "  id INTEGER PRIMARY KEY,"
    "  game TEXT NOT NULL,"
    "  n_seats INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('playing', 'over')),"
    "  deal TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  ended_at INTEGER,"
    "  result TEXT,"
    "  reason TEXT,"
    "  log TEXT);"
    "CREATE INDEX matches_playing ON matches(state) WHERE state = 'playing';"
    "CREATE TABLE seats("
    "  match_id INTEGER NOT NULL REFERENCES matches(id),"
    "  seat INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  token TEXT NOT NULL,"
    "  registered INTEGER NOT NULL,"
    "  points INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (match_id, seat));"
    "CREATE INDEX seats_by_name ON seats(name, match_id);"
    "CREATE TABLE moves("
    "  match_id INTEGER NOT NULL REFERENCES matches(id),"
    "  seq INTEGER NOT NULL,"
    "  seat INTEGER NOT NULL,"
    "  card TEXT NOT NULL,"
    "  timeout INTEGER NOT NULL,"
    "  PRIMARY KEY (match_id, seq));",
    /* 3 */
    "ALTER TABLE matches ADD COLUMN secret TEXT;"
    "ALTER TABLE seats ADD COLUMN seed TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE moves ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE seats ADD COLUMN side INTEGER NOT NULL DEFAULT 0;"
    "UPDATE seats SET side = seat % 2;",
};

enum stmt_id {
    ST_BEGIN = 0, ST_COMMIT, ST_ROLLBACK,
    ST_MATCH_INSERT, ST_SEAT_INSERT, ST_MOVE_INSERT, ST_TOKEN_UPDATE,
    ST_MATCH_END, ST_SEAT_POINTS, ST_SEATS_OF, ST_RATING_OF, ST_ACCOUNT_RESULT,
    ST_REGISTER, ST_STATS, ST_TOP, ST_HISTORY,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_MATCH_INSERT] = "INSERT INTO matches(id, game, n_seats, state, deal,"
                        " started_at, secret) VALUES (?, ?, ?, 'playing', '', ?, ?)",
    [ST_SEAT_INSERT] = "INSERT INTO seats(match_id, seat, name, token, registered,"
                       " seed, side) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_MOVE_INSERT] = "INSERT INTO moves(match_id, seq, seat, card, timeout, kind)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
    [ST_TOKEN_UPDATE] = "UPDATE seats SET token = ? WHERE match_id = ? AND seat = ?",
    [ST_MATCH_END] = "UPDATE matches SET state = 'over', ended_at = ?, result = ?,"
                     " reason = ?, log = ? WHERE id = ? AND state = 'playing'",
    [ST_SEAT_POINTS] = "UPDATE seats SET points = ? WHERE match_id = ? AND seat = ?",
    [ST_SEATS_OF] = "SELECT seat, name, registered FROM seats WHERE match_id = ?"
                    " ORDER BY seat",
    [ST_RATING_OF] = "SELECT rating FROM accounts WHERE name = ?",
    [ST_ACCOUNT_RESULT] = "UPDATE accounts SET rating = rating + ?, played = played + 1,"
                          " won = won + ?, lost = lost + ?, drawn = drawn + ?"
                          " WHERE name = ?",
    [ST_REGISTER] = "INSERT INTO accounts(name, hash, created_at) VALUES (?, ?, ?)",
    [ST_STATS] = "SELECT rating, played, won, lost, drawn FROM accounts WHERE name = ?",
    [ST_TOP] = "SELECT name, rating FROM accounts ORDER BY rating DESC, name LIMIT 20",
    [ST_HISTORY] =
        "SELECT m.id, m.game, m.result, s.seat,"
        " (SELECT SUM(p.points) FROM seats p WHERE p.match_id = m.id"
        "   AND p.side = s.side)"
        " FROM seats s JOIN matches m ON m.id = s.match_id"
        " WHERE s.name = ? AND m.state = 'over' ORDER BY m.id DESC LIMIT 10",
};

struct store {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[ST_COUNT];
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct store_job *queue_head, *queue_tail; /* to the writer */
    struct store_job *done_head, *done_tail;   /* back to the loop */
    bool is_stopping;
    uv_async_t async;
    bool has_async;
    struct store_metrics metrics;
};

/* ---------- helpers ---------- */

static int64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t err_cap)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, err_cap, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static int migrate(sqlite3 *db, int target, char *err, size_t err_cap)
{
    int v = user_version(db);
    char sql[64];

    if (v < 0) {
        snprintf(err, err_cap, "cannot read the schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (v > STORE_SCHEMA_VERSION) {
        snprintf(err, err_cap, "database schema %d is newer than this server's %d",
                 v, STORE_SCHEMA_VERSION);
        return -1;
    }
    for (; v < target; v++) {
        char inner[256];
        if (exec(db, "BEGIN IMMEDIATE", inner, sizeof inner) != 0 ||
            exec(db, migrations[v], inner, sizeof inner) != 0) {
            exec(db, "ROLLBACK", sql, sizeof sql); /* best effort */
            snprintf(err, err_cap, "migration to schema %d failed: %s", v + 1, inner);
            return -1;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(db, sql, inner, sizeof inner) != 0 ||
            exec(db, "COMMIT", inner, sizeof inner) != 0) {
            exec(db, "ROLLBACK", sql, sizeof sql);
            snprintf(err, err_cap, "migration to schema %d failed: %s", v + 1, inner);
            return -1;
        }
        log_info("store: schema migrated to version %d", v + 1);
    }
    return 0;
}

static int open_db(const char *path, int flags, sqlite3 **db, char *err,
                   size_t err_cap)
{
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_cap, "cannot open %s: %s", path,
                 *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    return 0;
}

int store_migrate_file(const char *path, int target, char *err, size_t err_cap)
{
    sqlite3 *db;
    if (open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db, err, err_cap) != 0)
        return -1;
    int rc = migrate(db, target, err, err_cap);
    sqlite3_close(db);
    return rc;
}

/* ---------- open ---------- */

struct store *store_open(const char *dir, char *err, size_t err_cap)
{
    struct store *st = mem_calloc(1, sizeof *st);
    char inner[256];
    size_t len = strlen(dir) + 16;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_cap, "cannot create data directory %s: %s", dir,
                 strerror(errno));
        goto fail;
    }
    st->path = mem_alloc(len);
    snprintf(st->path, len, "%s/tavolo.db", dir);
    if (open_db(st->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                              SQLITE_OPEN_NOMUTEX, &st->db, err, err_cap) != 0)
        goto fail;
    /* WAL: readers (--check-data, backups) never block the writer; FULL:
     * a commit is on disk when it returns, which the journal relies on. */
    if (exec(st->db, "PRAGMA journal_mode = WAL", inner, sizeof inner) != 0 ||
        exec(st->db, "PRAGMA synchronous = FULL", inner, sizeof inner) != 0) {
        snprintf(err, err_cap, "%s: %s (is the data directory writable?)",
                 st->path, inner);
        goto fail;
    }
    if (migrate(st->db, STORE_SCHEMA_VERSION, inner, sizeof inner) != 0) {
        snprintf(err, err_cap, "%s: %s", st->path, inner);
        goto fail;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &st->stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, err_cap, "%s: preparing statement %d: %s", st->path, i,
                     sqlite3_errmsg(st->db));
            goto fail;
        }
    }
    /* The journal holds every deal in play: only the server may read it.
     * SQLite gives the -wal and -shm files the same mode. */
    if (chmod(st->path, 0600) != 0)
        log_warn("store: cannot restrict %s to its owner: %s", st->path,
                 strerror(errno));
    /* Prove now that we can write, rather than at the first finished match. */
    if (exec(st->db, "BEGIN IMMEDIATE; COMMIT", inner, sizeof inner) != 0) {
        snprintf(err, err_cap, "%s is not writable: %s", st->path, inner);
        goto fail;
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->wake, NULL);
    return st;

fail:
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
    return NULL;
}

int store_set_quota(struct store *st, uint32_t max_kb)
{
    char sql[96], err[256];
    if (max_kb == 0)
        return 0;
    int page = 4096;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        page = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %llu",
             (unsigned long long)max_kb * 1024 / (unsigned)page);
    return exec(st->db, sql, err, sizeof err);
}

/* ---------- startup readers ---------- */

int store_each_account(struct store *st,
                       void (*fn)(void *ctx, const char *name, const char *hash),
                       void *ctx)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(st->db, "SELECT name, hash FROM accounts", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(s, 0),
           (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

int store_each_open_match(struct store *st,
                          void (*fn)(void *ctx, const struct store_open_match *m),
                          void *ctx)
{
    sqlite3_stmt *ms = NULL, *ss = NULL, *mv = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(st->db, "SELECT id, game, n_seats, deal, secret FROM matches"
                           " WHERE state = 'playing' ORDER BY id", -1, &ms, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "SELECT seat, name, token, registered, seed FROM seats"
                           " WHERE match_id = ? ORDER BY seat", -1, &ss, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "SELECT seat, card, timeout, kind FROM moves"
                           " WHERE match_id = ? ORDER BY seq", -1, &mv, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(ms) == SQLITE_ROW) {
        struct store_open_match m;
        memset(&m, 0, sizeof m);
        m.id = (uint64_t)sqlite3_column_int64(ms, 0);
        copy_text(m.game, sizeof m.game, sqlite3_column_text(ms, 1));
        m.n_seats = (unsigned)sqlite3_column_int(ms, 2);
        const char *deal = (const char *)sqlite3_column_text(ms, 3);
        while (deal && *deal && m.n_draws < STORE_MAX_DRAWS) {
            char *end;
            m.draws[m.n_draws++] = (uint32_t)strtoul(deal, &end, 10);
            deal = *end == ',' ? end + 1 : end;
        }
        copy_text(m.secret, sizeof m.secret, sqlite3_column_text(ms, 4));
        sqlite3_bind_int64(ss, 1, (sqlite3_int64)m.id);
        while (sqlite3_step(ss) == SQLITE_ROW) {
            int seat = sqlite3_column_int(ss, 0);
            if (seat < 0 || seat >= STORE_MAX_SEATS)
                continue;
            copy_text(m.seats[seat].name, sizeof m.seats[seat].name,
                      sqlite3_column_text(ss, 1));
            copy_text(m.seats[seat].token, sizeof m.seats[seat].token,
                      sqlite3_column_text(ss, 2));
            m.seats[seat].is_registered = sqlite3_column_int(ss, 3) != 0;
            copy_text(m.seats[seat].seed, sizeof m.seats[seat].seed,
                      sqlite3_column_text(ss, 4));
        }
        sqlite3_reset(ss);
        unsigned cap = 0;
        sqlite3_bind_int64(mv, 1, (sqlite3_int64)m.id);
        while (sqlite3_step(mv) == SQLITE_ROW) {
            if (m.n_moves == cap) {
                cap = cap ? cap * 2 : 64;
                m.moves = mem_realloc(m.moves, cap * sizeof *m.moves);
            }
            struct store_move *x = &m.moves[m.n_moves++];
            x->seat = (unsigned)sqlite3_column_int(mv, 0);
            copy_text(x->cards, sizeof x->cards, sqlite3_column_text(mv, 1));
            x->is_timeout = sqlite3_column_int(mv, 2) != 0;
            x->kind = (unsigned)sqlite3_column_int(mv, 3);
        }
        sqlite3_reset(mv);
        fn(ctx, &m);
        free(m.moves);
    }
    rc = 0;
out:
    sqlite3_finalize(ms);
    sqlite3_finalize(ss);
    sqlite3_finalize(mv);
    return rc;
}

uint64_t store_max_match_id(struct store *st)
{
    sqlite3_stmt *s;
    uint64_t id = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT COALESCE(MAX(id), 0) FROM matches", -1,
                           &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        id = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}

/* ---------- the writer thread: journal ---------- */

static int step_done(struct store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("store: %s: %s", sqlite3_sql(s), sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

static int apply_start(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_MATCH_INSERT];

    sqlite3_bind_int64(s, 1, (sqlite3_int64)op->match_id);
    sqlite3_bind_text(s, 2, op->game, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, (int)op->n_seats);
    sqlite3_bind_int64(s, 4, wall_ms());
    sqlite3_bind_text(s, 5, op->secret, -1, SQLITE_STATIC);
    if (step_done(st, s) != 0)
        return -1;
    s = st->stmt[ST_SEAT_INSERT];
    for (unsigned i = 0; i < op->n_seats; i++) {
        sqlite3_bind_int64(s, 1, (sqlite3_int64)op->match_id);
        sqlite3_bind_int(s, 2, (int)i);
        sqlite3_bind_text(s, 3, op->seats[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, op->seats[i].token, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 5, op->seats[i].is_registered);
        sqlite3_bind_text(s, 6, op->seats[i].seed, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 7, (int)op->seats[i].side);
        if (step_done(st, s) != 0)
            return -1;
    }
    return 0;
}

static int apply_move(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_MOVE_INSERT];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)op->match_id);
    sqlite3_bind_int(s, 2, (int)op->seq);
    sqlite3_bind_int(s, 3, (int)op->seat);
    sqlite3_bind_text(s, 4, op->cards, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, op->is_timeout);
    sqlite3_bind_int(s, 6, (int)op->move_kind);
    return step_done(st, s);
}

static int apply_token(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_TOKEN_UPDATE];
    sqlite3_bind_text(s, 1, op->seats[op->seat].token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)op->match_id);
    sqlite3_bind_int(s, 3, (int)op->seat);
    return step_done(st, s);
}

/* Result, points, and the ratings of the registered players (rating.h). */
static int apply_end(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_MATCH_END];
    struct {
        char name[STORE_NAME_MAX + 1];
        bool is_registered;
        double rating;
    } seat[STORE_MAX_SEATS];
    unsigned n_seats = 0;

    sqlite3_bind_int64(s, 1, wall_ms());
    sqlite3_bind_text(s, 2, op->result, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, op->reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, op->log ? op->log : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)op->match_id);
    if (step_done(st, s) != 0)
        return -1;
    if (sqlite3_changes(st->db) != 1) {
        log_warn("store: match %" PRIu64 " was not in play; result not recorded twice",
                 op->match_id);
        return 0;
    }
    s = st->stmt[ST_SEATS_OF];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)op->match_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int i = sqlite3_column_int(s, 0);
        if (i < 0 || i >= STORE_MAX_SEATS)
            continue;
        copy_text(seat[i].name, sizeof seat[i].name, sqlite3_column_text(s, 1));
        seat[i].is_registered = sqlite3_column_int(s, 2) != 0;
        seat[i].rating = RATING_START;
        if ((unsigned)i + 1 > n_seats)
            n_seats = (unsigned)i + 1;
    }
    sqlite3_reset(s);
    /* A match with a bot is unrated (PROTOCOL §14); the seats table still
     * names the player a bot replaced, who has it as played and lost. */
    if (op->is_unrated) {
        for (unsigned i = 0; i < n_seats; i++) {
            if (op->replaced[i] && seat[i].is_registered) {
                s = st->stmt[ST_ACCOUNT_RESULT];
                sqlite3_bind_double(s, 1, 0.0);
                sqlite3_bind_int(s, 2, 0);
                sqlite3_bind_int(s, 3, 1);
                sqlite3_bind_int(s, 4, 0);
                sqlite3_bind_text(s, 5, seat[i].name, -1, SQLITE_STATIC);
                if (step_done(st, s) != 0)
                    return -1;
            }
            seat[i].is_registered = false;
        }
    }
    /* A result that names a seat (hearts) has no two sides to rate yet:
     * points are recorded, ratings stay. */
    if (!op->is_teams)
        for (unsigned i = 0; i < n_seats; i++)
            seat[i].is_registered = false;

    for (unsigned i = 0; i < n_seats; i++) {
        s = st->stmt[ST_SEAT_POINTS];
        sqlite3_bind_int(s, 1, (int)op->points[i]);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)op->match_id);
        sqlite3_bind_int(s, 3, (int)i);
        if (step_done(st, s) != 0)
            return -1;
        if (!seat[i].is_registered)
            continue;
        s = st->stmt[ST_RATING_OF];
        sqlite3_bind_text(s, 1, seat[i].name, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW)
            seat[i].rating = sqlite3_column_double(s, 0);
        else
            seat[i].is_registered = false; /* the account is gone */
        sqlite3_reset(s);
    }
    /* Sides are seat parity (team0 = even seats). */
    double sum[2] = {0, 0};
    unsigned count[2] = {0, 0};
    for (unsigned i = 0; i < n_seats; i++) {
        sum[i % 2] += seat[i].rating;
        count[i % 2]++;
    }
    double side[2] = {count[0] ? sum[0] / count[0] : RATING_START,
                      count[1] ? sum[1] / count[1] : RATING_START};
    for (unsigned i = 0; i < n_seats; i++) {
        if (!seat[i].is_registered)
            continue;
        unsigned t = i % 2;
        double score = strcmp(op->result, "draw") == 0 ? 0.5
                     : (strcmp(op->result, t ? "team1" : "team0") == 0 ? 1.0 : 0.0);
        s = st->stmt[ST_ACCOUNT_RESULT];
        sqlite3_bind_double(s, 1, rating_delta(side[t], side[1 - t], score));
        sqlite3_bind_int(s, 2, score == 1.0);
        sqlite3_bind_int(s, 3, score == 0.0);
        sqlite3_bind_int(s, 4, score == 0.5);
        sqlite3_bind_text(s, 5, seat[i].name, -1, SQLITE_STATIC);
        if (step_done(st, s) != 0)
            return -1;
    }
    return 0;
}

static int apply_ops(struct store *st, const struct store_op *op)
{
    for (; op != NULL; op = op->next) {
        int rc = op->kind == STORE_OP_START ? apply_start(st, op)
               : op->kind == STORE_OP_MOVE ? apply_move(st, op)
               : op->kind == STORE_OP_TOKEN ? apply_token(st, op)
               : apply_end(st, op);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Commits jobs[0..n) (all JOURNAL) in one transaction. */
static void commit_group(struct store *st, struct store_job **jobs, size_t n)
{
    uint64_t t0 = mono_us();
    int rc = step_done(st, st->stmt[ST_BEGIN]);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = apply_ops(st, jobs[i]->ops);
    if (rc == 0)
        rc = step_done(st, st->stmt[ST_COMMIT]);
    if (rc != 0) {
        step_done(st, st->stmt[ST_ROLLBACK]); /* best effort */
        log_error("store: a journal commit of %zu job(s) failed; play goes on "
                  "but these moves are not durable", n);
    }
    uint64_t us = mono_us() - t0;
    pthread_mutex_lock(&st->lock);
    st->metrics.n_commits++;
    if (rc != 0)
        st->metrics.n_failed++;
    st->metrics.last_commit_us = us;
    if (us > st->metrics.max_commit_us)
        st->metrics.max_commit_us = us;
    pthread_mutex_unlock(&st->lock);
    if (us > 500000)
        log_warn("store: slow disk: a commit took %" PRIu64 " ms", us / 1000);
    for (size_t i = 0; i < n; i++)
        jobs[i]->rc = rc == 0 ? STORE_OK : STORE_FAILED;
}

/* ---------- the writer thread: accounts and queries ---------- */

static void run_query(struct store *st, struct store_job *job)
{
    sqlite3_stmt *s;
    int rc;

    switch (job->kind) {
    case STORE_JOB_REGISTER:
        s = st->stmt[ST_REGISTER];
        sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, job->hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, wall_ms());
        rc = sqlite3_step(s);
        job->rc = rc == SQLITE_DONE ? STORE_OK
                : rc == SQLITE_CONSTRAINT ? STORE_EXISTS : STORE_FAILED;
        if (job->rc == STORE_FAILED)
            log_error("store: registering %s: %s", job->name, sqlite3_errmsg(st->db));
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        break;
    case STORE_JOB_STATS:
        s = st->stmt[ST_STATS];
        sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            job->stats.rating = sqlite3_column_double(s, 0);
            job->stats.played = (unsigned)sqlite3_column_int(s, 1);
            job->stats.won = (unsigned)sqlite3_column_int(s, 2);
            job->stats.lost = (unsigned)sqlite3_column_int(s, 3);
            job->stats.drawn = (unsigned)sqlite3_column_int(s, 4);
            job->rc = STORE_OK;
        } else {
            job->rc = rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_FAILED;
        }
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        break;
    case STORE_JOB_TOP:
        s = st->stmt[ST_TOP];
        job->n_rows = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && job->n_rows < STORE_TOP_MAX) {
            copy_text(job->top[job->n_rows].name, sizeof job->top[0].name,
                      sqlite3_column_text(s, 0));
            job->top[job->n_rows].rating = sqlite3_column_double(s, 1);
            job->n_rows++;
        }
        job->rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_FAILED;
        sqlite3_reset(s);
        break;
    case STORE_JOB_HISTORY:
        s = st->stmt[ST_HISTORY];
        sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
        job->n_rows = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && job->n_rows < STORE_HISTORY_MAX) {
            typeof(job->history[0]) *h = &job->history[job->n_rows++];
            h->match_id = (uint64_t)sqlite3_column_int64(s, 0);
            copy_text(h->game, sizeof h->game, sqlite3_column_text(s, 1));
            /* The match's result, as in END (PROTOCOL §4): team0, team1, draw. */
            copy_text(h->result, sizeof h->result, sqlite3_column_text(s, 2));
            h->points = (unsigned)sqlite3_column_int(s, 4);
        }
        job->rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_FAILED;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        break;
    case STORE_JOB_JOURNAL:
        break;
    }
}

static void finish(struct store *st, struct store_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&st->lock);
    if (st->done_tail)
        st->done_tail->next = job;
    else
        st->done_head = job;
    st->done_tail = job;
    st->metrics.n_jobs++;
    pthread_mutex_unlock(&st->lock);
}

static void *writer(void *arg)
{
    struct store *st = arg;
    struct store_job *group[256];

    for (;;) {
        pthread_mutex_lock(&st->lock);
        while (st->queue_head == NULL && !st->is_stopping)
            pthread_cond_wait(&st->wake, &st->lock);
        struct store_job *jobs = st->queue_head;
        st->queue_head = st->queue_tail = NULL;
        bool stopping = st->is_stopping;
        pthread_mutex_unlock(&st->lock);
        if (jobs == NULL && stopping)
            break;

        /* Consecutive journal jobs share one commit; anything else runs
         * alone, in order, so callbacks keep submission order. */
        while (jobs != NULL) {
            size_t n = 0;
            while (jobs != NULL && jobs->kind == STORE_JOB_JOURNAL &&
                   n < sizeof group / sizeof group[0]) {
                group[n++] = jobs;
                jobs = jobs->next;
            }
            if (n > 0) {
                commit_group(st, group, n);
                for (size_t i = 0; i < n; i++)
                    finish(st, group[i]);
                continue;
            }
            struct store_job *job = jobs;
            jobs = jobs->next;
            run_query(st, job);
            finish(st, job);
        }
        if (st->has_async)
            uv_async_send(&st->async);
    }
    return NULL;
}

/* ---------- the loop side ---------- */

static void deliver_done(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    struct store_job *job = st->done_head;
    st->done_head = st->done_tail = NULL;
    pthread_mutex_unlock(&st->lock);
    while (job != NULL) {
        struct store_job *next = job->next;
        job->done(job);
        job = next;
    }
}

static void on_async(uv_async_t *h)
{
    deliver_done(h->data);
}

int store_start(struct store *st, uv_loop_t *loop)
{
    if (uv_async_init(loop, &st->async, on_async) != 0)
        return -1;
    st->async.data = st;
    st->has_async = true;
    if (pthread_create(&st->thread, NULL, writer, st) != 0) {
        uv_close((uv_handle_t *)&st->async, NULL);
        st->has_async = false;
        return -1;
    }
    st->has_thread = true;
    return 0;
}

void store_submit(struct store *st, struct store_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&st->lock);
    if (st->queue_tail)
        st->queue_tail->next = job;
    else
        st->queue_head = job;
    st->queue_tail = job;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
}

static void free_store(uv_handle_t *h)
{
    free(h->data);
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->has_thread) {
        pthread_mutex_lock(&st->lock);
        st->is_stopping = true;
        pthread_cond_signal(&st->wake);
        pthread_mutex_unlock(&st->lock);
        pthread_join(st->thread, NULL);
    }
    if (st->has_async)
        deliver_done(st); /* the last callbacks, on this (the loop) thread */
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    /* best effort: a clean close checkpoints the WAL into the database */
    sqlite3_close(st->db);
    free(st->path);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->wake);
    if (st->has_async)
        uv_close((uv_handle_t *)&st->async, free_store);
    else
        free(st);
}

void store_get_metrics(struct store *st, struct store_metrics *out)
{
    pthread_mutex_lock(&st->lock);
    *out = st->metrics;
    pthread_mutex_unlock(&st->lock);
}

void store_ops_free(struct store_op *ops)
{
    while (ops != NULL) {
        struct store_op *next = ops->next;
        free(ops->log);
        free(ops);
        ops = next;
    }
}

/* ---------- tooling ---------- */

static int count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

int store_check(const char *dir, FILE *out)
{
    char path[4096], err[256];
    sqlite3 *db;
    int damaged = 0;

    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    if (open_db(path, SQLITE_OPEN_READONLY, &db, err, sizeof err) != 0) {
        fprintf(out, "cannot open: %s\n", err);
        return 2;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
        fprintf(out, "cannot check %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 2;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *row = (const char *)sqlite3_column_text(s, 0);
        if (row && strcmp(row, "ok") != 0) {
            fprintf(out, "integrity: %s\n", row);
            damaged = 1;
        }
    }
    sqlite3_finalize(s);
    int v = user_version(db);
    if (v != STORE_SCHEMA_VERSION) {
        fprintf(out, "schema version %d, expected %d\n", v, STORE_SCHEMA_VERSION);
        damaged = 1;
    }
    static const struct {
        const char *what, *sql;
    } checks[] = {
        {"moves of unknown matches",
         "SELECT COUNT(*) FROM moves WHERE match_id NOT IN (SELECT id FROM matches)"},
        {"seats of unknown matches",
         "SELECT COUNT(*) FROM seats WHERE match_id NOT IN (SELECT id FROM matches)"},
        {"matches without all their seats",
         "SELECT COUNT(*) FROM matches m WHERE n_seats !="
         " (SELECT COUNT(*) FROM seats s WHERE s.match_id = m.id)"},
        {"finished matches without a result",
         "SELECT COUNT(*) FROM matches WHERE state = 'over' AND ((result NOT IN"
         " ('team0', 'team1', 'draw') AND result NOT GLOB 'seat[0-3]')"
         " OR reason NOT IN ('score', 'forfeit'))"},
        {"briscola matches won on score without 120 points",
         "SELECT COUNT(*) FROM matches m WHERE state = 'over' AND reason = 'score'"
         " AND game = 'briscola' AND (SELECT SUM(points) FROM seats s"
         " WHERE s.match_id = m.id) != 120"},
        {"accounts with impossible records",
         "SELECT COUNT(*) FROM accounts WHERE played != won + lost + drawn"},
    };
    if (!damaged) {
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
            int n = count(db, checks[i].sql);
            if (n != 0) {
                fprintf(out, "%s: %d\n", checks[i].what, n);
                damaged = 1;
            }
        }
    }
    if (!damaged)
        fprintf(out, "ok: %d accounts, %d finished matches, %d in play\n",
                count(db, "SELECT COUNT(*) FROM accounts"),
                count(db, "SELECT COUNT(*) FROM matches WHERE state = 'over'"),
                count(db, "SELECT COUNT(*) FROM matches WHERE state = 'playing'"));
    sqlite3_close(db);
    return damaged;
}

int store_backup(const char *dir, const char *dest, char *err, size_t err_cap)
{
    char path[4096];
    sqlite3 *src = NULL, *dst = NULL;
    int rc = -1;

    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    if (open_db(path, SQLITE_OPEN_READONLY, &src, err, err_cap) != 0 ||
        open_db(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, err,
                err_cap) != 0)
        goto out;
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        snprintf(err, err_cap, "backup: %s", sqlite3_errmsg(dst));
        goto out;
    }
    /* Copy in steps so a busy live server is not locked out for long. */
    int step;
    do {
        step = sqlite3_backup_step(b, 256);
        if (step == SQLITE_BUSY || step == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE) {
        snprintf(err, err_cap, "backup: %s", sqlite3_errstr(step));
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}
