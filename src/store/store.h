/*
 * store: tavolo's memory, in SQLite (the only file that includes
 * sqlite3.h). Accounts, finished matches with their ratings, and the
 * journal of matches in play, so that a crash loses nothing a client saw.
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
};

enum store_job_kind {
    STORE_JOB_JOURNAL = 0, /* ops: one durable commit */
    STORE_JOB_REGISTER,    /* name, hash */
    STORE_JOB_STATS,       /* name */
    STORE_JOB_TOP,
    STORE_JOB_HISTORY,     /* name */
};

enum store_rc {
    STORE_OK = 0,
    STORE_FAILED = -1,   /* the disk or the database refused: logged */
    STORE_EXISTS = -2,   /* REGISTER: the name is taken */
    STORE_NOTFOUND = -3, /* STATS: no such registered name */
    STORE_BROKEN = -4,   /* the store writes nothing more (see above) */
};

struct store_job {
    struct store_job *next;
    enum store_job_kind kind;
    struct store_op *ops; /* JOURNAL: owned by the job */
    char name[STORE_NAME_MAX + 1];
    char game[24]; /* STATS, TOP: the game whose records ("": briscola) */
    char hash[160];
    int rc;
    struct {
        double rating;
        unsigned played, won, lost, drawn;
    } stats;
    unsigned n_rows;
    struct {
        char name[STORE_NAME_MAX + 1];
        double rating;
    } top[STORE_TOP_MAX];
    struct {
        uint64_t match_id;
        char game[24];
        char result[8];
        unsigned points;
    } history[STORE_HISTORY_MAX];
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

/* Frees a list of ops (NULL does nothing). A journal job's ops may have
 * been taken by the store (job->ops is then NULL). */
void store_ops_free(struct store_op *ops);

/* --check-data: integrity and consistency checks of DIR/tavolo.db (and
 * of its WAL's header); writes a report (one line per finding) to out.
 * Returns 0 if sound, 1 if damaged, 2 if it cannot be opened. */
int store_check(const char *dir, FILE *out);

/* --backup: a consistent copy of a live database (SQLite online backup). */
int store_backup(const char *dir, const char *dest, char *err, size_t err_cap);

#endif
