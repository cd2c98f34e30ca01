/*
 * store: tavolo's memory, in SQLite (the only file that includes
 * sqlite3.h). Accounts, finished matches with their ratings, and the
 * journal of matches in play, so that a crash loses nothing a client saw.
 *
 * Two backends behind these functions, chosen at start: store_open
 * (SQLite, one node, described below) and store_open_redis (Redis,
 * store_redis.c: shared by the nodes of a cluster; docs/CLUSTER.md,
 * "Store on Redis"). Every function below works on either, with the same
 * results for the same jobs, except where its comment says otherwise;
 * the threading model (one writer, done callbacks on the loop in
 * submission order, consecutive journal jobs in one round) is the same.
 *
 * Threads: store_open, the store_each_* readers and store_check run on the
 * caller's thread before serving. After store_start every operation is a
 * job handed to one writer thread that owns the connection; its done
 * callback runs on the loop thread, in submission order. Consecutive
 * journal jobs are committed in one transaction (group commit), in WAL
 * mode. When a journal job's callback runs, its writes are durable at the
 * store's level (store_set_durability):
 *   POWER    synchronous=FULL: the commit fsyncs the WAL; on the disk.
 *   PROCESS  synchronous=NORMAL: the commit has written (write(2)) the WAL
 *            frames, so they survive the death of the process; a syncer
 *            thread fdatasync()s the WAL at most every fsync_ms while
 *            commits are unsynced, so a power cut loses at most that
 *            window (plus one fsync). Checkpoints still fsync the WAL
 *            before they copy it into the database (SQLite's order), so
 *            a power cut leaves a consistent database at either level.
 * A failed write is logged and reported through job->rc; it never stops
 * the loop.
 *
 * A failed journal commit (a full disk) leaves nothing behind: its
 * transaction is rolled back, and its ops are kept, in order, and put in
 * front of the next commit (retried every tick as well), so the journal
 * on disk is always a prefix of what the lobby wrote — never a move
 * without its match's START. Past STORE_BACKLOG_MAX kept ops, or when
 * the database file is deleted or replaced under the server, the store
 * is "broken": it writes nothing more and says why once, through the
 * on_broken callback, on the loop thread.
 *
 * Every tick (store_set_tick_ms) the writer checks that the file at the
 * path is still the one it writes, retries kept ops, and checkpoints the
 * WAL (PASSIVE) if anything was committed since the last tick.
 */
#ifndef TAVOLO_STORE_STORE_H
#define TAVOLO_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#define STORE_MAX_SEATS 4
#define STORE_MAX_DRAWS 64
#define STORE_NAME_MAX 16
#define STORE_TOKEN_LEN 32
#define STORE_TOP_MAX 20
#define STORE_HISTORY_MAX 10
#define STORE_SCHEMA_VERSION 5
#define STORE_SEED_MAX 64    /* hex digits (PROTOCOL §13) */
#define STORE_SECRET_HEX 64  /* a match secret, in hex */
#define STORE_MOVE_TEXT 40   /* a move's cards: up to 12 codes, space-separated */
#define STORE_BACKLOG_MAX 20000 /* kept ops of failed commits (~20 MB at most) */

struct store;

struct store_seat {
    char name[STORE_NAME_MAX + 1];
    char token[STORE_TOKEN_LEN + 1];
    char seed[STORE_SEED_MAX + 1]; /* "" for none */
    unsigned side;                 /* START: the team or seat it plays for */
    bool is_registered;
    /* PROTOCOL §14: a server bot plays the seat (bot.h's level + 1; 0 a
     * person), since START or since a REPLACED (is_replaced: then name
     * is still the replaced player's, who has the match as lost). */
    unsigned bot;
    bool is_replaced;
};

enum store_durability {
    STORE_DURABLE_POWER = 0, /* a commit is fsynced before its callback */
    STORE_DURABLE_PROCESS,   /* written before, fsynced every fsync_ms */
};

enum store_op_kind {
    STORE_OP_START = 0, /* a match started: seats, tokens, seeds, secret */
    STORE_OP_MOVE,      /* a move was accepted: its kind and cards */
    STORE_OP_TOKEN,     /* a seat's resume token changed */
    STORE_OP_END,       /* the match is over: result, points, event log */
    STORE_OP_REPLACED,  /* a bot took seat (--abandon bot): seats[seat].bot */
};

struct store_op {
    struct store_op *next;
    enum store_op_kind kind;
    uint64_t match_id;
    /* Fencing (Redis): the owner's epoch of the match. Not 0: the append
     * happens only if tavolo:match:{id}:epoch holds exactly this value,
     * else the job fails with STORE_FENCED and nothing is written. 0: no
     * check (one node; SQLite ignores it). */
    uint64_t epoch;
    /* START */
    char game[24];
    unsigned n_seats;
    struct store_seat seats[STORE_MAX_SEATS];
    char secret[STORE_SECRET_HEX + 1];
    /* MOVE (seat, kind, cards, seq, is_timeout); TOKEN (seat,
     * seats[seat].token); REPLACED (seat, seats[seat].bot) */
    unsigned seq, seat, move_kind;
    char cards[STORE_MOVE_TEXT];
    bool is_timeout;
    /* END; is_teams false: the result names a seat; ratings move pairwise
     * (rating_seats) */
    char result[8], reason[8];
    bool is_teams;
    int loser; /* END: the seat that forfeited (rates a seat result), -1 none */
    /* END; PROTOCOL §14: a bot held a seat: no rating moves and no STATS
     * count, but a player replaced by a bot has it as played and lost. */
    bool is_unrated;
    bool replaced[STORE_MAX_SEATS];
    unsigned points[STORE_MAX_SEATS];
    char *log; /* owned: freed with the op */
};

struct store_move {
    unsigned seat, kind;
    char cards[STORE_MOVE_TEXT]; /* codes, space-separated */
    bool is_timeout;
};

/* A match that was in play when the server stopped (for restore). */
struct store_open_match {
    uint64_t id;
    char game[24];
    unsigned n_seats;
    struct store_seat seats[STORE_MAX_SEATS];
    char secret[STORE_SECRET_HEX + 1]; /* "" in a schema-2 record: draws */
    uint32_t draws[STORE_MAX_DRAWS];   /* schema 2: the deal's draws */
    unsigned n_draws;
    struct store_move *moves;
    unsigned n_moves;
    /* STORE_JOB_LOAD_MATCH (Redis): the journal holds its END, and the
     * match's epoch (tavolo:match:{id}:epoch, 0 if unset) when read. */
    bool is_over;
    uint64_t epoch;
};

enum store_job_kind {
    STORE_JOB_JOURNAL = 0, /* ops: one durable commit */
    STORE_JOB_REGISTER,    /* name, hash */
    STORE_JOB_STATS,       /* name */
    STORE_JOB_TOP,
    STORE_JOB_HISTORY,     /* name */
    STORE_JOB_ACCOUNT,     /* name -> hash, or STORE_NOTFOUND */
    STORE_JOB_LOAD_MATCH,  /* match_id -> match (Redis only; see below) */
};

enum store_rc {
    STORE_OK = 0,
    STORE_FAILED = -1,   /* the disk or the database refused: logged */
    STORE_EXISTS = -2,   /* REGISTER: the name is taken */
    STORE_NOTFOUND = -3, /* STATS: no such registered name */
    STORE_BROKEN = -4,   /* the store writes nothing more (see above) */
    STORE_FENCED = -5,   /* JOURNAL: an op's epoch is stale; not written */
    STORE_UNAVAILABLE = -6, /* Redis: unreachable for longer than the
                               wait (store_redis_set_wait_ms) */
};

struct store_job {
    struct store_job *next;
    enum store_job_kind kind;
    struct store_op *ops; /* JOURNAL: owned by the job */
    uint64_t match_id;    /* LOAD_MATCH */
    /* LOAD_MATCH, when rc is STORE_OK: the match read back from its
     * journal, allocated by the store and then owned by the job's owner
     * (the done callback), who frees it with store_open_match_free(). NULL
     * otherwise; rc STORE_NOTFOUND: no journal for that id. */
    struct store_open_match *match;
    char name[STORE_NAME_MAX + 1];
    char game[24]; /* STATS, TOP: the game whose records ("": briscola) */
    int rc;
    unsigned n_rows;
    /* One kind's payload each: a job is one kind. Not side by side: a
     * journal job (one in every outbox batch, outbox.c) would carry all
     * of them, 1.4 KB instead of ~0.8 (PERFORMANCE.md, "Third round"). */
    union {
        char hash[160]; /* REGISTER: in; ACCOUNT: out */
        struct {
            double rating;
            unsigned played, won, lost, drawn;
        } stats;        /* STATS */
        struct {
            char name[STORE_NAME_MAX + 1];
            double rating;
        } top[STORE_TOP_MAX];             /* TOP */
        struct {
            uint64_t match_id;
            char game[24];
            char result[8];
            unsigned points;
        } history[STORE_HISTORY_MAX];     /* HISTORY */
    };
    /* Runs on the loop thread when the job is finished; owns the job. */
    void (*done)(struct store_job *job);
    void *ctx;
};

struct store_metrics {
    uint64_t n_commits, n_failed, n_jobs;
    uint64_t n_backlog;       /* ops of failed commits, waiting for a retry */
    uint64_t n_checkpoints;
    uint64_t n_fsyncs;        /* PROCESS: the syncer's fdatasync()s */
    uint64_t last_fsync_us, max_fsync_us;
    uint64_t last_commit_us, max_commit_us;
};

/* Opens DIR/tavolo.db (creating DIR and the file), sets WAL mode and
 * migrates the schema to STORE_SCHEMA_VERSION. An existing database must
 * pass the checks of store_check (and its WAL a header check) first: a
 * damaged one is refused, never replaced by an empty one. NULL and a
 * one-line reason in err if the directory is not writable, the file is
 * damaged, etc. */
struct store *store_open(const char *dir, char *err, size_t err_cap);

/* Connects to Redis at addr: "HOST:PORT", or a unix socket path (it
 * starts with '/'), loads the journal's script and checks that the
 * server answers. NULL and a one-line reason in err if it cannot. The
 * connection is made again (with back-off) whenever it breaks; see
 * docs/CLUSTER.md for what waits and what fails meanwhile. */
struct store *store_open_redis(const char *addr, char *err, size_t err_cap);

/* True for the Redis backend: accounts and records are shared with other
 * nodes, so a name missing from a node's memory may still be registered
 * (ask with STORE_JOB_ACCOUNT). */
bool store_is_shared(const struct store *st);

/* Redis: the longest a job waits for Redis (connecting again with
 * back-off) before it fails with STORE_UNAVAILABLE (journal ops are then
 * kept and retried, in order, as after a failed SQLite commit); before
 * store_start. Default 5000; SQLite ignores it. */
void store_redis_set_wait_ms(struct store *st, uint32_t wait_ms);

/* Caps the database file at max_kb KiB (0: no cap). Writes past it fail
 * exactly as on a full disk (SQLITE_FULL). Callable before or after
 * store_start (then the writer applies it before its next write). */
int store_set_quota(struct store *st, uint32_t max_kb);

/* The writer's tick (file check, retry, WAL checkpoint); before
 * store_start. 0: no tick (the default). */
void store_set_tick_ms(struct store *st, uint32_t tick_ms);

/* The durability of a commit (see above); before store_start. POWER is
 * what store_open sets. fsync_ms (PROCESS only, at least 1): the longest
 * a written commit waits for its fsync, give or take one fsync's
 * duration. Returns 0, or -1 if SQLite refuses the setting (logged). */
int store_set_durability(struct store *st, enum store_durability level,
                         uint32_t fsync_ms);

/* fn(ctx, why) runs once, on the loop thread, when the store breaks
 * (see above); before store_start. */
void store_on_broken(struct store *st, void (*fn)(void *ctx, const char *why),
                     void *ctx);

/* Migrates an open SQLite file from its version to `target` (tests). */
int store_migrate_file(const char *path, int target, char *err, size_t err_cap);

/* Startup readers (before store_start). Return 0 or -1. */
int store_each_account(struct store *st,
                       void (*fn)(void *ctx, const char *name, const char *hash),
                       void *ctx);
int store_each_open_match(struct store *st,
                          void (*fn)(void *ctx, const struct store_open_match *m),
                          void *ctx);
uint64_t store_max_match_id(struct store *st);

/* Starts the writer thread; done callbacks are delivered on loop. */
int store_start(struct store *st, uv_loop_t *loop);

/* Queues a job (owned by the store until its done callback). */
void store_submit(struct store *st, struct store_job *job);

/* Finishes every queued job (their callbacks run), stops the thread and
 * closes the database. NULL does nothing. */
void store_close(struct store *st);

void store_get_metrics(struct store *st, struct store_metrics *out);

/* A zeroed op (never NULL), from a free list of the calling thread when
 * store_ops_free gave it one there; free it with store_ops_free. */
struct store_op *store_op_new(void);

/* Frees a match and its moves (NULL does nothing). */
void store_open_match_free(struct store_open_match *m);

/* Frees a list of ops (NULL does nothing). A journal job's ops may have
 * been taken by the store (job->ops is then NULL). */
void store_ops_free(struct store_op *ops);

/* --check-data: integrity and consistency checks of DIR/tavolo.db (and
 * of its WAL's header); writes a report (one line per finding) to out.
 * Returns 0 if sound, 1 if damaged, 2 if it cannot be opened. */
int store_check(const char *dir, FILE *out);

/* --backup: a consistent copy of a live database (SQLite online backup). */
int store_backup(const char *dir, const char *dest, char *err, size_t err_cap);

/* --check-data with --redis: every match in play has a journal that
 * starts with START, has no entry after END, and no entry from an epoch
 * above the match's; every record names an account. Same report and
 * return values as store_check. */
int store_check_redis(const char *addr, FILE *out);

/* --backup with --redis: asks Redis for BGREWRITEAOF (the AOF is then a
 * compact, consistent copy in Redis's own directory) and waits for it;
 * copying it elsewhere is Redis tooling's job (docs/CLUSTER.md). 0 or
 * -1 with a reason in err. */
int store_backup_redis(const char *addr, char *err, size_t err_cap);

#endif
