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
 *   4  records(name, game, rating, played, won, lost, drawn): ratings per
 *      game (PROTOCOL §14), one row per name and game once it played
 *      there (none: 1500 and no games); every account's old record
 *      becomes its briscola row (all earlier matches were briscola), and
 *      the accounts table loses its record columns (and their index)
 *   5  seats.bot (PROTOCOL §14: a server bot's level + 1, 0 a person) and
 *      seats.replaced (1: a bot took the seat from the named player,
 *      --abandon bot), so that a match in play restores with its bots;
 *      0 in older rows (a person, as those servers restored them)
 *   6  moves becomes a WITHOUT ROWID table keyed by (match_id, seq):
 *      the same columns and rows, but a move is one B-tree insert (the
 *      key's) rather than two (the rowid table's and its key's index);
 *      rebuilt in key order, then renamed (docs/PERFORMANCE.md, "Third
 *      round")
 */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/pool.h"
#include "base/mem.h"
#include "store/rating.h"
#include "store/store_redis.h"

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
    /* 4 */
    "CREATE TABLE records("
    "  name TEXT NOT NULL REFERENCES accounts(name),"
    "  game TEXT NOT NULL,"
    "  rating REAL NOT NULL DEFAULT 1500,"
    "  played INTEGER NOT NULL DEFAULT 0,"
    "  won INTEGER NOT NULL DEFAULT 0,"
    "  lost INTEGER NOT NULL DEFAULT 0,"
    "  drawn INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (name, game));"
    "CREATE INDEX records_by_rating ON records(game, rating DESC, name);"
    "INSERT INTO records(name, game, rating, played, won, lost, drawn)"
    "  SELECT name, 'briscola', rating, played, won, lost, drawn FROM accounts;"
    /* accounts without its record columns: rebuilt (SQLite's way, for
     * any version; DROP COLUMN needs 3.35), its index goes with it */
    "CREATE TABLE accounts_4("
    "  name TEXT PRIMARY KEY,"
    "  hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "INSERT INTO accounts_4(name, hash, created_at)"
    "  SELECT name, hash, created_at FROM accounts;"
    "DROP TABLE accounts;"
    "ALTER TABLE accounts_4 RENAME TO accounts;",
    /* 5 */
    "ALTER TABLE seats ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE seats ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;",
    /* 6 */
    "CREATE TABLE moves_6("
    "  match_id INTEGER NOT NULL REFERENCES matches(id),"
    "  seq INTEGER NOT NULL,"
    "  seat INTEGER NOT NULL,"
    "  card TEXT NOT NULL,"
    "  timeout INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (match_id, seq)) WITHOUT ROWID;"
    "INSERT INTO moves_6(match_id, seq, seat, card, timeout, kind)"
    "  SELECT match_id, seq, seat, card, timeout, kind FROM moves"
    "  ORDER BY match_id, seq;"
    "DROP TABLE moves;"
    "ALTER TABLE moves_6 RENAME TO moves;",
};

enum stmt_id {
    ST_BEGIN = 0, ST_COMMIT, ST_ROLLBACK,
    ST_MATCH_INSERT, ST_SEAT_INSERT, ST_MOVE_INSERT, ST_TOKEN_UPDATE,
    ST_MATCH_END, ST_SEAT_POINTS, ST_SEATS_OF, ST_RATING_OF, ST_ACCOUNT_RESULT,
    ST_REGISTER, ST_STATS, ST_TOP, ST_HISTORY, ST_SEAT_REPLACED,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_MATCH_INSERT] = "INSERT INTO matches(id, game, n_seats, state, deal,"
                        " started_at, secret) VALUES (?, ?, ?, 'playing', '', ?, ?)",
    [ST_SEAT_INSERT] = "INSERT INTO seats(match_id, seat, name, token, registered,"
                       " seed, side, bot) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    /* The name stays the replaced player's: END counts it a loss. */
    [ST_SEAT_REPLACED] = "UPDATE seats SET bot = ?, replaced = 1, token = ''"
                         " WHERE match_id = ? AND seat = ?",
    [ST_MOVE_INSERT] = "INSERT INTO moves(match_id, seq, seat, card, timeout, kind)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
    [ST_TOKEN_UPDATE] = "UPDATE seats SET token = ? WHERE match_id = ? AND seat = ?",
    [ST_MATCH_END] = "UPDATE matches SET state = 'over', ended_at = ?, result = ?,"
                     " reason = ?, log = ? WHERE id = ? AND state = 'playing'",
    [ST_SEAT_POINTS] = "UPDATE seats SET points = ? WHERE match_id = ? AND seat = ?",
    [ST_SEATS_OF] = "SELECT s.seat, s.name, s.registered, m.game FROM seats s"
                    " JOIN matches m ON m.id = s.match_id WHERE s.match_id = ?"
                    " ORDER BY s.seat",
    /* A registered name with no row for the game has 1500 and no games. */
    [ST_RATING_OF] = "SELECT COALESCE(r.rating, 1500) FROM accounts a LEFT JOIN"
                     " records r ON r.name = a.name AND r.game = ?2 WHERE a.name = ?1",
    [ST_ACCOUNT_RESULT] = "INSERT INTO records(name, game, rating, played, won, lost,"
                          " drawn) VALUES (?1, ?2, 1500 + ?3, 1, ?4, ?5, ?6)"
                          " ON CONFLICT(name, game) DO UPDATE SET"
                          " rating = rating + ?3, played = played + 1,"
                          " won = won + ?4, lost = lost + ?5, drawn = drawn + ?6",
    [ST_REGISTER] = "INSERT INTO accounts(name, hash, created_at) VALUES (?, ?, ?)",
    [ST_STATS] = "SELECT COALESCE(r.rating, 1500), COALESCE(r.played, 0),"
                 " COALESCE(r.won, 0), COALESCE(r.lost, 0), COALESCE(r.drawn, 0)"
                 " FROM accounts a LEFT JOIN records r ON r.name = a.name"
                 " AND r.game = ?2 WHERE a.name = ?1",
    [ST_TOP] = "SELECT a.name, COALESCE(r.rating, 1500) AS rt FROM accounts a"
               " LEFT JOIN records r ON r.name = a.name AND r.game = ?1"
               " ORDER BY rt DESC, a.name LIMIT 20",
    [ST_HISTORY] =
        "SELECT m.id, m.game, m.result, s.seat,"
        " (SELECT SUM(p.points) FROM seats p WHERE p.match_id = m.id"
        "   AND p.side = s.side)"
        " FROM seats s JOIN matches m ON m.id = s.match_id"
        " WHERE s.name = ? AND m.state = 'over' ORDER BY m.id DESC LIMIT 10",
};

/* Rows of one multi-row move INSERT, at most (6 parameters each: 384,
 * far below SQLite's 32 766); MOVE_ROWS_MAX = 2^(MOVE_LEVELS - 1). */
#define MOVE_LEVELS 7
#define MOVE_ROWS_MAX 64

/* The group commit's wait at --durability process (gather): when the
 * writer is busy (its last commit ended less than GROUP_BUSY_US ago) and
 * fewer than GROUP_MIN jobs wait, it sleeps GROUP_WAIT_US first, so that
 * the moves arriving meanwhile share the commit. A commit's system calls
 * (SQLite's WAL locks, the frames' pwrites, the hand-off) are per commit,
 * not per move: under fast play this made commits 5-6x larger (docs/
 * PERFORMANCE.md, "Third round"). An idle writer never waits, and at
 * power the fsync is the wait. */
#define GROUP_MIN 8
#define GROUP_WAIT_US 200
#define GROUP_BUSY_US 1000

/* check_file before a commit at most this often (and at every tick): a
 * stat(2) per commit was 0.18 system calls per move under fast play.
 * What a commit into a deleted file loses is lost with the file anyway;
 * the check is there to stop writing, soon. */
#define CHECK_FILE_US 100000

struct store {
    /* Set: the Redis backend (store_redis.c) answers every call, and
     * nothing below is used. */
    struct rstore *redis;
    sqlite3 *db;
    char *path;
    dev_t dev;                 /* the file we write: a rename or an unlink */
    ino_t ino;                 /* at path shows as a change */
    int page_size;
    sqlite3_stmt *stmt[ST_COUNT];
    /* The writer's multi-row move INSERTs: move_stmt[k] inserts 2^k rows,
     * prepared on first use; a group's moves wait in `moves` until a
     * non-move op or the commit, then go in as few statements as the
     * binary decomposition of their count (apply_ops, flush_moves). */
    sqlite3_stmt *move_stmt[MOVE_LEVELS];
    const struct store_op *moves[MOVE_ROWS_MAX];
    size_t n_moves;
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
    /* Under lock: */
    uint32_t quota_pages;      /* 0: none */
    bool is_quota_new;         /* for the writer to apply */
    bool is_broken;
    char broken_why[256];
    /* The writer's own: */
    struct store_op *backlog, **backlog_tail; /* ops of failed commits */
    size_t n_backlog;
    uint64_t last_fail_log_us;
    uint64_t n_commits_since_checkpoint;
    int last_err;              /* primary code of the last failed step */
    uint64_t last_fail_us;     /* when a commit last failed */
    uint64_t last_check_us;    /* when check_file last ran */
    uint64_t last_group_end_us; /* when the last group commit ended */
    uint32_t tick_ms;
    /* Durability (store_set_durability). At PROCESS the syncer thread
     * fdatasync()s the WAL through its own descriptor: the writer only
     * counts its commits, and never waits for the disk. */
    enum store_durability durability;
    uint32_t fsync_ms;
    pthread_t syncer;
    bool has_syncer;
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_wake;
    uint64_t n_written;        /* under sync_lock: commits written */
    uint64_t n_synced;         /* under sync_lock: ... of which fsynced */
    bool is_sync_stopping;     /* under sync_lock */
    int wal_fd;                /* the syncer's own; -1: not open */
    /* The loop's own: */
    bool is_broken_said;
    void (*on_broken)(void *ctx, const char *why);
    void *broken_ctx;
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
            if (!sqlite3_get_autocommit(db)) /* SQLite may have rolled back */
                exec(db, "ROLLBACK", sql, sizeof sql); /* best effort */
            snprintf(err, err_cap, "migration to schema %d failed: %s", v + 1, inner);
            return -1;
        }
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(db, sql, inner, sizeof inner) != 0 ||
            exec(db, "COMMIT", inner, sizeof inner) != 0) {
            if (!sqlite3_get_autocommit(db))
                exec(db, "ROLLBACK", sql, sizeof sql); /* best effort */
            snprintf(err, err_cap, "migration to schema %d failed: %s", v + 1, inner);
            return -1;
        }
        log_info("store: schema migrated to version %d", v + 1);
    }
    return 0;
}

/* Once per process, before SQLite initialises: no global memory
 * statistics (nothing reads them), so that no allocation of the writer
 * takes SQLite's global malloc mutex. */
static void configure_sqlite(void)
{
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        log_debug("store: SQLite was initialised before its configuration; "
                  "memory statistics stay on");
}

static int open_db(const char *path, int flags, sqlite3 **db, char *err,
                   size_t err_cap)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
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

/* ---------- checks (store_open and --check-data) ---------- */

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

/* snprintf("%s") without a truncation warning: a report line is cut at
 * cap, knowingly. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The header of PATH-wal (https://sqlite.org/fileformat2.html#walformat):
 * a magic number, then a checksum of the first 24 bytes. SQLite ignores a
 * WAL whose header is wrong, silently, and with it every commit in it
 * since the last checkpoint: so a bad header is damage, reported here
 * before SQLite opens the file (and rewrites the WAL). Returns 0 if the
 * WAL is absent, empty or sound, -1 with a reason in why. */
static int check_wal(const char *path, char *why, size_t why_cap)
{
    char wal[4096 + 8];
    unsigned char h[32];

    snprintf(wal, sizeof wal, "%s-wal", path);
    FILE *f = fopen(wal, "rb");
    if (f == NULL)
        return 0; /* no WAL: nothing to lose */
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n == 0)
        return 0;
    if (n < sizeof h) {
        snprintf(why, why_cap, "write-ahead log tavolo.db-wal is damaged: %zu bytes, "
                 "shorter than its header", n);
        return -1;
    }
    uint32_t magic = be32(h);
    if (magic != 0x377f0682 && magic != 0x377f0683) {
        snprintf(why, why_cap, "write-ahead log tavolo.db-wal is damaged: bad magic number");
        return -1;
    }
    /* Checksum words are big-endian for magic ...83, else little-endian. */
    bool is_be = magic & 1;
    uint32_t s0 = 0, s1 = 0;
    for (int i = 0; i < 24; i += 8) {
        uint32_t x0 = is_be ? be32(h + i) : (uint32_t)h[i + 3] << 24 |
                      (uint32_t)h[i + 2] << 16 | (uint32_t)h[i + 1] << 8 | h[i];
        uint32_t x1 = is_be ? be32(h + i + 4) : (uint32_t)h[i + 7] << 24 |
                      (uint32_t)h[i + 6] << 16 | (uint32_t)h[i + 5] << 8 | h[i + 4];
        s0 += x0 + s1;
        s1 += x1 + s0;
    }
    if (s0 != be32(h + 24) || s1 != be32(h + 28)) {
        snprintf(why, why_cap, "write-ahead log tavolo.db-wal is damaged: bad "
                 "header checksum");
        return -1;
    }
    return 0;
}

/* Integrity, schema version and consistency of an open database. Each
 * finding goes to out (if not NULL) as a line; the first also to first.
 * Returns 0 if sound, 1 if damaged, 2 if it could not be checked. */
static int check_db(sqlite3 *db, const char *path, FILE *out, char *first,
                    size_t first_cap)
{
    int damaged = 0;
    char line[512];

#define FINDING(...)                                                          \
    do {                                                                      \
        snprintf(line, sizeof line, __VA_ARGS__);                             \
        if (out != NULL)                                                      \
            fprintf(out, "%s\n", line);                                       \
        if (!damaged && first != NULL)                                        \
            copy_str(first, first_cap, line);                                 \
        damaged = 1;                                                          \
    } while (0)

    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
        snprintf(line, sizeof line, "cannot check %s: %s", path, sqlite3_errmsg(db));
        if (out != NULL)
            fprintf(out, "%s\n", line);
        if (first != NULL)
            copy_str(first, first_cap, line);
        return 2;
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *row = (const char *)sqlite3_column_text(s, 0);
        if (row && strcmp(row, "ok") != 0)
            FINDING("integrity: %s", row);
    }
    if (rc != SQLITE_DONE)
        FINDING("integrity: %s", sqlite3_errmsg(db));
    sqlite3_finalize(s);
    int v = user_version(db);
    if (v != STORE_SCHEMA_VERSION)
        FINDING("schema version %d, expected %d", v, STORE_SCHEMA_VERSION);
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
         "SELECT COUNT(*) FROM records WHERE played != won + lost + drawn"
         " OR played < 0 OR won < 0 OR lost < 0 OR drawn < 0"},
        {"records of unknown accounts",
         "SELECT COUNT(*) FROM records WHERE name NOT IN (SELECT name FROM accounts)"},
        {"seats with an impossible bot",
         "SELECT COUNT(*) FROM seats WHERE bot NOT BETWEEN 0 AND 3"
         " OR replaced NOT IN (0, 1) OR (replaced = 1 AND bot = 0)"},
    };
    if (!damaged) {
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
            int n = count(db, checks[i].sql);
            if (n != 0)
                FINDING("%s: %d", checks[i].what, n);
        }
    }
    if (!damaged && out != NULL)
        fprintf(out, "ok: %d accounts, %d finished matches, %d in play\n",
                count(db, "SELECT COUNT(*) FROM accounts"),
                count(db, "SELECT COUNT(*) FROM matches WHERE state = 'over'"),
                count(db, "SELECT COUNT(*) FROM matches WHERE state = 'playing'"));
#undef FINDING
    return damaged;
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
    struct stat sb;
    bool existed = stat(st->path, &sb) == 0 && sb.st_size > 0;
    char wal[4096 + 8];
    snprintf(wal, sizeof wal, "%s-wal", st->path);
    bool has_frames = stat(wal, &sb) == 0 && sb.st_size > 32;
    /* Before SQLite opens it: it would ignore a damaged WAL, and the
     * commits in it, silently — and start on an older (or empty) file. */
    if (check_wal(st->path, inner, sizeof inner) != 0) {
        snprintf(err, err_cap, "%s; refusing to start on what is left (run "
                 "--check-data, restore a backup: docs/OPERATIONS.md)", inner);
        goto fail;
    }
    if (open_db(st->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                              SQLITE_OPEN_NOMUTEX, &st->db, err, err_cap) != 0)
        goto fail;
    /* WAL: readers (--check-data, backups) never block the writer; FULL:
     * a commit is on disk when it returns (the migrations rely on it; the
     * journal's level is store_set_durability's). */
    if (exec(st->db, "PRAGMA journal_mode = WAL", inner, sizeof inner) != 0 ||
        exec(st->db, "PRAGMA synchronous = FULL", inner, sizeof inner) != 0) {
        int code = sqlite3_errcode(st->db);
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
            snprintf(err, err_cap, "%s is damaged or not a tavolo database (%s); "
                     "restore a backup (docs/OPERATIONS.md)", st->path, inner);
        else
            snprintf(err, err_cap, "%s: %s (is the data directory writable?)",
                     st->path, inner);
        goto fail;
    }
    /* An existing file with no schema version is not one of ours, or it
     * lost its first commits (frames of its WAL that SQLite could not
     * read): never start empty on top of it. A file we created ourselves
     * is 0 bytes, or one page with WAL mode set and no tables. */
    if (existed && user_version(st->db) == 0 &&
        (has_frames || count(st->db, "SELECT COUNT(*) FROM sqlite_master") != 0)) {
        snprintf(err, err_cap, "%s has %s but no tavolo schema version; "
                 "refusing to start on it (run --check-data, restore a backup: "
                 "docs/OPERATIONS.md)", st->path,
                 has_frames ? "a write-ahead log SQLite could not read" : "tables");
        goto fail;
    }
    int from_version = user_version(st->db);
    if (migrate(st->db, STORE_SCHEMA_VERSION, inner, sizeof inner) != 0) {
        snprintf(err, err_cap, "%s: %s", st->path, inner);
        goto fail;
    }
    /* A migration's frames (schema 6 rewrites every move) would leave
     * the WAL that large for good: SQLite reuses a WAL from its start
     * after a checkpoint but never shrinks it. Copied into the file and
     * truncated now, while no commit of ours waits; a reader in the way
     * (--backup) only leaves it for the regular checkpoints. */
    if (from_version >= 0 && from_version < STORE_SCHEMA_VERSION) {
        int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                           NULL, NULL);
        if (rc != SQLITE_OK)
            log_warn("store: the write-ahead log after the migration: %s",
                     sqlite3_errmsg(st->db));
    }
    /* The same checks as --check-data: a damaged journal would restore
     * matches wrongly, or forfeit them. */
    if (existed) {
        int rc = check_db(st->db, st->path, NULL, inner, sizeof inner);
        if (rc != 0) {
            snprintf(err, err_cap, "%s fails its checks (%s); refusing to start: "
                     "run --check-data %s for the report, restore a backup "
                     "(docs/OPERATIONS.md)", st->path, inner, dir);
            goto fail;
        }
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
    if (stat(st->path, &sb) != 0) {
        snprintf(err, err_cap, "%s: %s", st->path, strerror(errno));
        goto fail;
    }
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->page_size = count(st->db, "PRAGMA page_size");
    if (st->page_size <= 0)
        st->page_size = 4096;
    /* Checkpoints also run every tick (writer_tick); this bounds the WAL
     * between ticks under heavy play. 1000 pages is SQLite's default,
     * said here so that it is not left to a build option. */
    if (exec(st->db, "PRAGMA wal_autocheckpoint = 1000", inner, sizeof inner) != 0)
        log_warn("store: cannot set wal_autocheckpoint: %s", inner);
    st->backlog_tail = &st->backlog;
    st->wal_fd = -1;
    st->durability = STORE_DURABLE_POWER; /* synchronous = FULL, above */
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->sync_lock, NULL);
    /* The writer's tick and the syncer are timed on the monotonic clock. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->wake, &ca);
    pthread_cond_init(&st->sync_wake, &ca);
    pthread_condattr_destroy(&ca);
    return st;

fail:
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
    return NULL;
}

/* On the thread that owns the connection. SQLite's default maximum is
 * 4294967294 pages: "no quota". */
static int apply_quota(struct store *st, uint32_t pages)
{
    char sql[96], err[256];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %llu",
             pages ? (unsigned long long)pages : 4294967294ull);
    if (exec(st->db, sql, err, sizeof err) != 0) {
        log_error("store: cannot set the quota: %s", err);
        return -1;
    }
    return 0;
}

int store_set_quota(struct store *st, uint32_t max_kb)
{
    if (st->redis != NULL)
        return 0; /* Redis's maxmemory is the operator's (docs/CLUSTER.md) */
    uint64_t pages = (uint64_t)max_kb * 1024 / (unsigned)st->page_size;
    if (max_kb != 0 && pages == 0)
        pages = 1;
    if (pages > 4294967294ull)
        pages = 0;
    if (!st->has_thread)
        return max_kb == 0 ? 0 : apply_quota(st, (uint32_t)pages);
    pthread_mutex_lock(&st->lock);
    st->quota_pages = (uint32_t)pages;
    st->is_quota_new = true;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    return 0;
}

void store_set_tick_ms(struct store *st, uint32_t tick_ms)
{
    if (st->redis != NULL)
        return; /* no file, no WAL: nothing to tick for */
    st->tick_ms = tick_ms;
}

void store_on_broken(struct store *st, void (*fn)(void *ctx, const char *why),
                     void *ctx)
{
    if (st->redis != NULL) {
        rstore_on_broken(st->redis, fn, ctx);
        return;
    }
    st->on_broken = fn;
    st->broken_ctx = ctx;
}

int store_set_durability(struct store *st, enum store_durability level,
                         uint32_t fsync_ms)
{
    char err[256];

    if (st->redis != NULL)
        return rstore_set_durability(st->redis, level);
    assert(!st->has_thread);
    /* In WAL mode, NORMAL drops the WAL fsync of each commit and keeps
     * those of checkpoints: a checkpoint fsyncs the WAL before it copies
     * any frame into the database, and the database before it lets the
     * WAL restart (sqlite.org/pragma.html#pragma_synchronous), so the
     * file a power cut leaves is consistent, only shorter. */
    const char *sql = level == STORE_DURABLE_PROCESS ? "PRAGMA synchronous = NORMAL"
                                                     : "PRAGMA synchronous = FULL";
    if (exec(st->db, sql, err, sizeof err) != 0) {
        log_error("store: cannot set the durability: %s", err);
        return -1;
    }
    st->durability = level;
    st->fsync_ms = fsync_ms > 0 ? fsync_ms : 1;
    return 0;
}

/* ---------- the syncer thread (PROCESS) ---------- */

/* The writer, after each commit that wrote: the syncer has work. */
static void note_written(struct store *st)
{
    if (!st->has_syncer)
        return;
    pthread_mutex_lock(&st->sync_lock);
    if (st->n_written++ == st->n_synced)
        pthread_cond_signal(&st->sync_wake);
    pthread_mutex_unlock(&st->sync_lock);
}

/* The syncer's descriptor of PATH-wal, opened again if the file there is
 * not the one it holds (SQLite keeps one WAL while the database is open;
 * this is a check, not a case we expect). fdatasync() of any descriptor
 * of a file flushes every write to it, whoever made them. The first open
 * also fsyncs the directory, so that a WAL SQLite has just created is
 * found after a power cut. Returns the descriptor, or -1 (logged). */
static int wal_descriptor(struct store *st)
{
    char wal[4096 + 8];
    struct stat a, b;

    snprintf(wal, sizeof wal, "%s-wal", st->path);
    if (st->wal_fd != -1) {
        if (stat(wal, &a) == 0 && fstat(st->wal_fd, &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            return st->wal_fd;
        close(st->wal_fd);
        st->wal_fd = -1;
    }
    st->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
    if (st->wal_fd == -1) {
        log_error("store: cannot open %s to fsync it: %s", wal, strerror(errno));
        return -1;
    }
    char *slash = strrchr(st->path, '/');
    size_t len = slash ? (size_t)(slash - st->path) : 1;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)len, slash ? st->path : ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd != -1) {
        fsync(dfd); /* best effort: SQLite's first WAL sync does it too */
        close(dfd);
    }
    return st->wal_fd;
}

/* While commits are written but not fsynced, fdatasync() the WAL, at
 * most once every fsync_ms (an idle period's first commit is synced at
 * once). A commit written at t is on disk by t + fsync_ms + one fsync. A
 * failed fsync is logged (at most every 10 s) and tried again at the
 * next period: the entries are still in the OS's cache, so only a power
 * cut before a later fsync succeeds can lose them. On stop, one last
 * fsync of whatever is unsynced. */
static void *syncer(void *arg)
{
    struct store *st = arg;
    uint64_t last_us = 0, last_log_us = 0;

    pthread_mutex_lock(&st->sync_lock);
    for (;;) {
        if (st->n_synced == st->n_written) {
            if (st->is_sync_stopping)
                break;
            pthread_cond_wait(&st->sync_wake, &st->sync_lock);
            continue;
        }
        uint64_t now = mono_us();
        uint64_t due = last_us + (uint64_t)st->fsync_ms * 1000;
        if (now < due && !st->is_sync_stopping) {
            struct timespec ts = {(time_t)(due / 1000000),
                                  (long)(due % 1000000) * 1000};
            pthread_cond_timedwait(&st->sync_wake, &st->sync_lock, &ts);
            continue;
        }
        uint64_t target = st->n_written;
        pthread_mutex_unlock(&st->sync_lock);
        last_us = now;
        int fd = wal_descriptor(st);
        int rc = -1;
        if (fd != -1)
            while ((rc = fdatasync(fd)) == -1 && errno == EINTR)
                ;
        int e = errno;
        uint64_t us = mono_us() - now;
        if (rc == -1 && (last_log_us == 0 || now - last_log_us > 10000000)) {
            last_log_us = now;
            log_error("store: fsync of the write-ahead log failed (%s): the "
                      "last commits are not on disk yet; tried again every "
                      "--fsync-ms", fd == -1 ? "cannot open it" : strerror(e));
        }
        pthread_mutex_lock(&st->lock);
        if (rc == 0) {
            st->metrics.n_fsyncs++;
            st->metrics.last_fsync_us = us;
            if (us > st->metrics.max_fsync_us)
                st->metrics.max_fsync_us = us;
        }
        pthread_mutex_unlock(&st->lock);
        if (us > 500000)
            log_warn("store: slow disk: an fsync took %" PRIu64 " ms", us / 1000);
        pthread_mutex_lock(&st->sync_lock);
        if (rc == 0)
            st->n_synced = target;
        else if (st->is_sync_stopping)
            break; /* logged; nothing more to try */
    }
    pthread_mutex_unlock(&st->sync_lock);
    return NULL;
}

/* ---------- startup readers ---------- */

int store_each_account(struct store *st,
                       void (*fn)(void *ctx, const char *name, const char *hash),
                       void *ctx)
{
    sqlite3_stmt *s;
    int rc;

    if (st->redis != NULL)
        return rstore_each_account(st->redis, fn, ctx);

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

    if (st->redis != NULL)
        return rstore_each_open_match(st->redis, fn, ctx);

    if (sqlite3_prepare_v2(st->db, "SELECT id, game, n_seats, deal, secret FROM matches"
                           " WHERE state = 'playing' ORDER BY id", -1, &ms, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "SELECT seat, name, token, registered, seed, bot,"
                           " replaced FROM seats"
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
            m.seats[seat].bot = (unsigned)sqlite3_column_int(ss, 5);
            m.seats[seat].is_replaced = sqlite3_column_int(ss, 6) != 0;
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
    if (st->redis != NULL)
        return rstore_max_match_id(st->redis);
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
        st->last_err = sqlite3_errcode(st->db) & 0xff;
        log_error("store: %s: %s", sqlite3_sql(s), sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

/* A failure the same ops may get past later (a full disk, a busy or
 * failing device), as opposed to ops the schema refuses (a bug). */
static bool is_transient(int err)
{
    return err == SQLITE_FULL || err == SQLITE_IOERR || err == SQLITE_BUSY ||
           err == SQLITE_LOCKED || err == SQLITE_NOMEM || err == SQLITE_CANTOPEN ||
           err == SQLITE_READONLY || err == SQLITE_PROTOCOL || err == SQLITE_NOLFS;
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
        sqlite3_bind_int(s, 8, (int)op->seats[i].bot);
        if (step_done(st, s) != 0)
            return -1;
    }
    return 0;
}

static int apply_replaced(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_SEAT_REPLACED];
    sqlite3_bind_int(s, 1, (int)op->seats[op->seat].bot);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)op->match_id);
    sqlite3_bind_int(s, 3, (int)op->seat);
    return step_done(st, s);
}

/* The INSERT of 2^level move rows, prepared on its first use. */
static sqlite3_stmt *move_stmt(struct store *st, unsigned level)
{
    if (st->move_stmt[level] != NULL)
        return st->move_stmt[level];
    if (level == 0)
        return st->stmt[ST_MOVE_INSERT];
    static const char head[] =
        "INSERT INTO moves(match_id, seq, seat, card, timeout, kind) VALUES ";
    static const char row[] = "(?, ?, ?, ?, ?, ?)";
    size_t rows = (size_t)1 << level;
    char sql[sizeof head + MOVE_ROWS_MAX * sizeof row + 1];
    size_t n = sizeof head - 1;
    memcpy(sql, head, n);
    for (size_t i = 0; i < rows; i++) {
        if (i > 0)
            sql[n++] = ',';
        memcpy(sql + n, row, sizeof row - 1);
        n += sizeof row - 1;
    }
    if (sqlite3_prepare_v3(st->db, sql, (int)n, SQLITE_PREPARE_PERSISTENT,
                           &st->move_stmt[level], NULL) != SQLITE_OK) {
        st->last_err = sqlite3_errcode(st->db) & 0xff;
        log_error("store: preparing a %zu-row move insert: %s", rows,
                  sqlite3_errmsg(st->db));
        st->move_stmt[level] = NULL;
        return NULL;
    }
    return st->move_stmt[level];
}

/* Inserts the moves waiting in st->moves, in order: 2^k rows a statement
 * for the bits of their count, largest first (45 moves: 32 + 8 + 4 + 1).
 * One statement for many rows runs SQLite's per-statement work (cursors
 * opened and closed, the statement journal, the VDBE's setup) once. */
static int flush_moves(struct store *st)
{
    size_t done = 0;

    for (unsigned level = MOVE_LEVELS; level-- > 0;) {
        size_t rows = (size_t)1 << level;
        while (st->n_moves - done >= rows) {
            sqlite3_stmt *s = move_stmt(st, level);
            if (s == NULL) {
                st->n_moves = 0;
                return -1;
            }
            for (size_t i = 0; i < rows; i++) {
                const struct store_op *op = st->moves[done + i];
                int b = (int)i * 6;
                sqlite3_bind_int64(s, b + 1, (sqlite3_int64)op->match_id);
                sqlite3_bind_int(s, b + 2, (int)op->seq);
                sqlite3_bind_int(s, b + 3, (int)op->seat);
                sqlite3_bind_text(s, b + 4, op->cards, -1, SQLITE_STATIC);
                sqlite3_bind_int(s, b + 5, op->is_timeout);
                sqlite3_bind_int(s, b + 6, (int)op->move_kind);
            }
            done += rows;
            if (step_done(st, s) != 0) {
                st->n_moves = 0;
                return -1;
            }
        }
    }
    st->n_moves = 0;
    return 0;
}

/* A move waits for flush_moves (at the next op that is not a move, a
 * full batch, or the commit). */
static int apply_move(struct store *st, const struct store_op *op)
{
    st->moves[st->n_moves++] = op;
    return st->n_moves == MOVE_ROWS_MAX ? flush_moves(st) : 0;
}

static int apply_token(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_TOKEN_UPDATE];
    sqlite3_bind_text(s, 1, op->seats[op->seat].token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)op->match_id);
    sqlite3_bind_int(s, 3, (int)op->seat);
    return step_done(st, s);
}

/* One registered player's result in a game: rating move and counts. */
static int record_result(struct store *st, const char *name, const char *game,
                         double delta, int won, int lost, int drawn)
{
    sqlite3_stmt *s = st->stmt[ST_ACCOUNT_RESULT];
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, game, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, delta);
    sqlite3_bind_int(s, 4, won);
    sqlite3_bind_int(s, 5, lost);
    sqlite3_bind_int(s, 6, drawn);
    return step_done(st, s);
}

/* Result, points, and the ratings of the registered players in the
 * match's game (rating.h): two sides (team<k>, draw), or every seat for
 * itself (seat<k>, draw: rating_seats). */
static int apply_end(struct store *st, const struct store_op *op)
{
    sqlite3_stmt *s = st->stmt[ST_MATCH_END];
    struct {
        char name[STORE_NAME_MAX + 1];
        bool is_registered;
        double rating;
    } seat[STORE_MAX_SEATS];
    unsigned n_seats = 0;
    char game[24] = "";

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
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int i = sqlite3_column_int(s, 0);
        if (i < 0 || i >= STORE_MAX_SEATS)
            continue;
        copy_text(seat[i].name, sizeof seat[i].name, sqlite3_column_text(s, 1));
        seat[i].is_registered = sqlite3_column_int(s, 2) != 0;
        seat[i].rating = RATING_START;
        copy_text(game, sizeof game, sqlite3_column_text(s, 3));
        if ((unsigned)i + 1 > n_seats)
            n_seats = (unsigned)i + 1;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) { /* a read error may have ended the transaction */
        log_error("store: reading the seats of match %" PRIu64 ": %s",
                  op->match_id, sqlite3_errmsg(st->db));
        return -1;
    }
    /* A match with a bot is unrated (PROTOCOL §14); the seats table still
     * names the player a bot replaced, who has it as played and lost. */
    if (op->is_unrated) {
        for (unsigned i = 0; i < n_seats; i++) {
            if (op->replaced[i] && seat[i].is_registered &&
                record_result(st, seat[i].name, game, 0.0, 0, 1, 0) != 0)
                return -1;
            seat[i].is_registered = false;
        }
    }
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
        sqlite3_bind_text(s, 2, game, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            seat[i].rating = sqlite3_column_double(s, 0);
        else
            seat[i].is_registered = false; /* the account is gone */
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            log_error("store: reading the rating of %s: %s", seat[i].name,
                      sqlite3_errmsg(st->db));
            return -1;
        }
    }
    bool is_draw = strcmp(op->result, "draw") == 0;
    if (!op->is_teams) {
        /* Every seat for itself: pairwise by totals, the forfeiting seat
         * losing all its pairs. Counts: won when the result names the
         * seat; drawn when it is a draw and the seat shares the lowest
         * total (of the seats that did not forfeit); lost otherwise. */
        if (n_seats < 2)
            return 0;
        int loser = strcmp(op->reason, "forfeit") == 0 &&
                    op->loser >= 0 && (unsigned)op->loser < n_seats ? op->loser : -1;
        double rating[STORE_MAX_SEATS], delta[STORE_MAX_SEATS];
        unsigned lowest = UINT32_MAX;
        for (unsigned i = 0; i < n_seats; i++) {
            rating[i] = seat[i].rating;
            if ((int)i != loser && op->points[i] < lowest)
                lowest = op->points[i];
        }
        rating_seats(n_seats, rating, op->points, loser, delta);
        for (unsigned i = 0; i < n_seats; i++) {
            if (!seat[i].is_registered)
                continue;
            char me[16];
            snprintf(me, sizeof me, "seat%u", i);
            int won = strcmp(op->result, me) == 0;
            int drawn = !won && is_draw && (int)i != loser && op->points[i] == lowest;
            if (record_result(st, seat[i].name, game, delta[i], won, !won && !drawn,
                              drawn) != 0)
                return -1;
        }
        return 0;
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
        double score = is_draw ? 0.5
                     : (strcmp(op->result, t ? "team1" : "team0") == 0 ? 1.0 : 0.0);
        if (record_result(st, seat[i].name, game,
                          rating_delta(side[t], side[1 - t], score), score == 1.0,
                          score == 0.0, score == 0.5) != 0)
            return -1;
    }
    return 0;
}

static int apply_ops(struct store *st, const struct store_op *op)
{
    for (; op != NULL; op = op->next) {
        /* The moves before any other op go in first: the journal's
         * order is the lobby's. */
        int rc = op->kind == STORE_OP_MOVE ? apply_move(st, op)
               : st->n_moves > 0 && flush_moves(st) != 0 ? -1
               : op->kind == STORE_OP_START ? apply_start(st, op)
               : op->kind == STORE_OP_TOKEN ? apply_token(st, op)
               : op->kind == STORE_OP_REPLACED ? apply_replaced(st, op)
               : apply_end(st, op);
        /* After SQLITE_FULL or an I/O error SQLite may roll the whole
         * transaction back by itself: a write after that would commit
         * on its own, outside the group. */
        if (rc != 0 || sqlite3_get_autocommit(st->db))
            return -1;
    }
    return 0;
}

/* Under st->lock. Says why once; the loop hears it in on_async. */
static void set_broken(struct store *st, const char *why)
{
    if (st->is_broken)
        return;
    st->is_broken = true;
    snprintf(st->broken_why, sizeof st->broken_why, "%s", why);
}

static bool is_broken(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    bool b = st->is_broken;
    pthread_mutex_unlock(&st->lock);
    return b;
}

/* The file at st->path must still be the one we write: deleted (or
 * replaced, say by a restore done the wrong way), our commits would land
 * in an inode nobody will ever open again. Writer thread. */
static void check_file(struct store *st)
{
    struct stat sb;
    char why[256];

    st->last_check_us = mono_us();
    if (stat(st->path, &sb) != 0)
        snprintf(why, sizeof why, "%s is gone (%s) while the server runs: "
                 "nothing more is written", st->path, strerror(errno));
    else if (sb.st_dev != st->dev || sb.st_ino != st->ino)
        snprintf(why, sizeof why, "%s was replaced while the server runs: "
                 "nothing more is written", st->path);
    else
        return;
    pthread_mutex_lock(&st->lock);
    set_broken(st, why);
    pthread_mutex_unlock(&st->lock);
}

static size_t count_ops(const struct store_op *op)
{
    size_t n = 0;
    for (; op != NULL; op = op->next)
        n++;
    return n;
}

static void ops_free(struct store_op *ops, bool is_pooled);

static void free_backlog(struct store *st)
{
    ops_free(st->backlog, false); /* on the writer's thread */
    st->backlog = NULL;
    st->backlog_tail = &st->backlog;
    st->n_backlog = 0;
}

static void apply_new_quota(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    bool is_new = st->is_quota_new;
    uint32_t pages = st->quota_pages;
    st->is_quota_new = false;
    pthread_mutex_unlock(&st->lock);
    if (is_new)
        apply_quota(st, pages); /* logged if it fails */
}

/* One transaction: the backlog, then jobs[0..n). Returns 0, or the
 * primary SQLite code of the failure (nothing of it is then in the
 * database: rolled back, by us or by SQLite itself). */
static int try_commit(struct store *st, struct store_job **jobs, size_t n)
{
    int rc = -1;

    st->last_err = SQLITE_ERROR;
    st->n_moves = 0;
    if (step_done(st, st->stmt[ST_BEGIN]) == 0) {
        rc = apply_ops(st, st->backlog);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = apply_ops(st, jobs[i]->ops);
        if (rc == 0 && st->n_moves > 0 &&
            (flush_moves(st) != 0 || sqlite3_get_autocommit(st->db)))
            rc = -1;
        if (rc == 0)
            rc = step_done(st, st->stmt[ST_COMMIT]);
    }
    st->n_moves = 0;
    if (rc != 0 && !sqlite3_get_autocommit(st->db)) {
        int err = st->last_err;
        step_done(st, st->stmt[ST_ROLLBACK]); /* best effort; logged */
        st->last_err = err;
    }
    if (rc == 0) {
        if (st->n_backlog > 0)
            log_info("store: %zu journal entries that had failed to commit "
                     "are on disk now", st->n_backlog);
        free_backlog(st);
        st->n_commits_since_checkpoint++;
        note_written(st);
        return 0;
    }
    return st->last_err ? st->last_err : SQLITE_ERROR;
}

/* jobs[0..n) join the backlog, in order (their ops are the store's). */
static void keep(struct store *st, struct store_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (jobs[i]->ops == NULL)
            continue;
        *st->backlog_tail = jobs[i]->ops;
        st->n_backlog += count_ops(jobs[i]->ops);
        while (*st->backlog_tail != NULL)
            st->backlog_tail = &(*st->backlog_tail)->next;
        jobs[i]->ops = NULL;
    }
    /* Memory is the bound: past it, give up rather than grow. */
    if (st->n_backlog > STORE_BACKLOG_MAX) {
        char why[160];
        snprintf(why, sizeof why, "the disk has refused the journal for too "
                 "long: %zu entries wait", st->n_backlog);
        pthread_mutex_lock(&st->lock);
        set_broken(st, why);
        pthread_mutex_unlock(&st->lock);
    }
}

/* Commits the backlog and then jobs[0..n) (all JOURNAL) in one
 * transaction (n may be 0: a retry of the backlog alone). If the disk
 * refuses it, nothing of it is in the database and the jobs' ops join
 * the backlog, so that no later commit can build on a write that is not
 * there (a move without its START). If the schema refuses it (a bug:
 * say a move twice), the jobs are tried one by one and only the refused
 * ones fail, their ops left with them. */
static void commit_group(struct store *st, struct store_job **jobs, size_t n)
{
    uint64_t t0 = mono_us();
    size_t n_kept = st->n_backlog;
    int err = 0;

    apply_new_quota(st);
    if (!is_broken(st) && t0 - st->last_check_us >= CHECK_FILE_US)
        check_file(st);
    if (is_broken(st)) {
        /* Nothing more is written: the ops stay with their jobs and are
         * freed with them; the backlog is dropped. */
        if (st->n_backlog > 0)
            log_error("store: broken: %zu journal entries that had failed "
                      "are dropped", st->n_backlog);
        free_backlog(st);
        for (size_t i = 0; i < n; i++)
            jobs[i]->rc = STORE_BROKEN;
        pthread_mutex_lock(&st->lock);
        st->metrics.n_failed += n;
        st->metrics.n_backlog = 0;
        pthread_mutex_unlock(&st->lock);
        return;
    }
    for (size_t i = 0; i < n; i++)
        jobs[i]->rc = STORE_OK;
    if (n > 0 && st->n_backlog > 0 && t0 - st->last_fail_us < 1000000) {
        /* The disk refused a moment ago: each try rewrites the whole
         * backlog, so new entries just join it until the next tick (or
         * a commit a second later) tries again. */
        keep(st, jobs, n);
        for (size_t i = 0; i < n; i++)
            jobs[i]->rc = STORE_FAILED;
        pthread_mutex_lock(&st->lock);
        st->metrics.n_failed++;
        st->metrics.n_backlog = st->n_backlog;
        pthread_mutex_unlock(&st->lock);
        return;
    }
    err = try_commit(st, jobs, n);
    if (err != 0 && !is_transient(err)) {
        /* Find who is refused: the backlog alone first, then each job. */
        err = st->n_backlog > 0 && n > 0 ? try_commit(st, NULL, 0) : err;
        if (err != 0 && !is_transient(err) && st->n_backlog > 0) {
            log_error("store: the schema refuses %zu journal entries that had "
                      "failed before (%s): a bug; they are dropped",
                      st->n_backlog, sqlite3_errstr(err));
            free_backlog(st);
        }
        if (err != 0 && is_transient(err)) {
            keep(st, jobs, n);
            for (size_t i = 0; i < n; i++)
                jobs[i]->rc = STORE_FAILED;
        } else {
            err = 0;
        }
        for (size_t i = 0; i < n && err == 0; i++) {
            int e = try_commit(st, &jobs[i], 1);
            if (e != 0 && !is_transient(e)) {
                log_error("store: a journal entry was refused (%s): a bug; "
                          "it is not recorded", sqlite3_errstr(e));
                jobs[i]->rc = STORE_FAILED;
            } else if (e != 0) {
                err = e;
                keep(st, jobs + i, n - i);
                for (size_t j = i; j < n; j++)
                    jobs[j]->rc = STORE_FAILED;
            }
        }
    } else if (err != 0) {
        keep(st, jobs, n);
        for (size_t i = 0; i < n; i++)
            jobs[i]->rc = STORE_FAILED;
    }
    if (err != 0) {
        st->last_fail_us = t0;
        /* One line on the first failure, then one every 10 s at most:
         * a full disk under heavy play fails every commit. */
        if (n_kept == 0 || t0 - st->last_fail_log_us > 10000000) {
            st->last_fail_log_us = t0;
            log_error("store: a journal commit failed (%s); play goes on, %zu "
                      "journal entries wait and are retried, in order, until "
                      "the disk takes them", sqlite3_errstr(err), st->n_backlog);
        }
    }
    uint64_t us = mono_us() - t0;
    pthread_mutex_lock(&st->lock);
    st->metrics.n_commits++;
    if (err != 0)
        st->metrics.n_failed++;
    st->metrics.n_backlog = st->n_backlog;
    st->metrics.last_commit_us = us;
    if (us > st->metrics.max_commit_us)
        st->metrics.max_commit_us = us;
    pthread_mutex_unlock(&st->lock);
    if (us > 500000)
        log_warn("store: slow disk: a commit took %" PRIu64 " ms", us / 1000);
}

/* Every tick_ms: the file check, a retry of the backlog, and a PASSIVE
 * checkpoint (it never waits for readers such as --backup) if anything
 * was committed since the last one, so that the main file follows the
 * WAL even when play is too light for wal_autocheckpoint. */
static void writer_tick(struct store *st)
{
    apply_new_quota(st);
    if (!is_broken(st))
        check_file(st);
    if (is_broken(st))
        return;
    if (st->n_backlog > 0)
        commit_group(st, NULL, 0);
    if (st->n_commits_since_checkpoint == 0)
        return;
    int n_log = 0, n_done = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &n_log, &n_done);
    if (rc != SQLITE_OK) {
        log_warn("store: WAL checkpoint: %s", sqlite3_errmsg(st->db));
        return;
    }
    st->n_commits_since_checkpoint = 0;
    pthread_mutex_lock(&st->lock);
    st->metrics.n_checkpoints++;
    pthread_mutex_unlock(&st->lock);
    log_debug("store: checkpoint: %d of %d WAL frames in the database", n_done, n_log);
}

/* ---------- the writer thread: accounts and queries ---------- */

static void run_query(struct store *st, struct store_job *job)
{
    sqlite3_stmt *s;
    int rc;

    apply_new_quota(st);
    if (job->kind == STORE_JOB_REGISTER && !is_broken(st))
        check_file(st);
    if (is_broken(st)) {
        job->rc = STORE_BROKEN;
        return;
    }
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
        else if (job->rc == STORE_OK) {
            st->n_commits_since_checkpoint++;
            note_written(st);
        }
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        break;
    case STORE_JOB_STATS:
        s = st->stmt[ST_STATS];
        sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, job->game[0] ? job->game : "briscola", -1,
                          SQLITE_STATIC);
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
        sqlite3_bind_text(s, 1, job->game[0] ? job->game : "briscola", -1,
                          SQLITE_STATIC);
        job->n_rows = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && job->n_rows < STORE_TOP_MAX) {
            copy_text(job->top[job->n_rows].name, sizeof job->top[0].name,
                      sqlite3_column_text(s, 0));
            job->top[job->n_rows].rating = sqlite3_column_double(s, 1);
            job->n_rows++;
        }
        job->rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : STORE_FAILED;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
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
    case STORE_JOB_ACCOUNT:
        job->rc = STORE_FAILED;
        if (sqlite3_prepare_v2(st->db, "SELECT hash FROM accounts WHERE name = ?",
                               -1, &s, NULL) != SQLITE_OK)
            break;
        sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            copy_text(job->hash, sizeof job->hash, sqlite3_column_text(s, 0));
        job->rc = rc == SQLITE_ROW ? STORE_OK
                : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_FAILED;
        sqlite3_finalize(s);
        break;
    case STORE_JOB_LOAD_MATCH:
        /* One node restores its matches at start (store_each_open_match);
         * loading one that another node ran is the cluster's, on Redis. */
        log_error("store: loading match %" PRIu64 " by itself needs --redis",
                  job->match_id);
        job->rc = STORE_FAILED;
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

/* The jobs taken from the queue, and more if the group commit should
 * wait for them (GROUP_WAIT_US above). Writer thread. */
static struct store_job *gather(struct store *st, struct store_job *jobs)
{
    if (st->durability != STORE_DURABLE_PROCESS ||
        mono_us() - st->last_group_end_us >= GROUP_BUSY_US)
        return jobs;
    struct store_job *tail = jobs;
    size_t n = 1;
    for (; tail->next != NULL; tail = tail->next)
        n++;
    if (n >= GROUP_MIN)
        return jobs;
    struct timespec ts = {0, GROUP_WAIT_US * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&st->lock);
    tail->next = st->queue_head;
    st->queue_head = st->queue_tail = NULL;
    pthread_mutex_unlock(&st->lock);
    return jobs;
}

static void *writer(void *arg)
{
    struct store *st = arg;
    struct store_job *group[256];

    uint64_t next_tick_us = mono_us() + (uint64_t)st->tick_ms * 1000;

    for (;;) {
        pthread_mutex_lock(&st->lock);
        while (st->queue_head == NULL && !st->is_stopping &&
               !st->is_quota_new) {
            if (st->tick_ms == 0) {
                pthread_cond_wait(&st->wake, &st->lock);
                continue;
            }
            struct timespec ts = {(time_t)(next_tick_us / 1000000),
                                  (long)(next_tick_us % 1000000) * 1000};
            if (pthread_cond_timedwait(&st->wake, &st->lock, &ts) != 0)
                break; /* the tick is due */
        }
        struct store_job *jobs = st->queue_head;
        st->queue_head = st->queue_tail = NULL;
        bool stopping = st->is_stopping;
        bool was_broken = st->is_broken;
        bool had_jobs = jobs != NULL;
        pthread_mutex_unlock(&st->lock);
        if (jobs == NULL && stopping)
            break;
        if (jobs != NULL && !stopping)
            jobs = gather(st, jobs);
        if (st->tick_ms != 0 && mono_us() >= next_tick_us) {
            writer_tick(st);
            next_tick_us = mono_us() + (uint64_t)st->tick_ms * 1000;
        }
        apply_new_quota(st);

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
                st->last_group_end_us = mono_us();
                for (size_t i = 0; i < n; i++)
                    finish(st, group[i]);
                continue;
            }
            struct store_job *job = jobs;
            jobs = jobs->next;
            run_query(st, job);
            finish(st, job);
        }
        if (st->has_async && (had_jobs || was_broken != is_broken(st)))
            uv_async_send(&st->async);
    }
    /* The last chance for entries that failed: the disk may have room
     * now. Whatever still fails is lost, but the journal on disk stays a
     * prefix, from which every match restores. */
    if (st->n_backlog > 0 && !is_broken(st))
        commit_group(st, NULL, 0);
    if (st->n_backlog > 0)
        log_error("store: %zu journal entries could not be written; matches "
                  "will resume from before them", st->n_backlog);
    free_backlog(st);
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
    struct store *st = h->data;
    char why[sizeof st->broken_why];

    deliver_done(st);
    pthread_mutex_lock(&st->lock);
    bool is_new = st->is_broken && !st->is_broken_said;
    snprintf(why, sizeof why, "%s", st->broken_why);
    pthread_mutex_unlock(&st->lock);
    if (is_new) {
        st->is_broken_said = true;
        log_error("store: %s", why);
        if (st->on_broken != NULL)
            st->on_broken(st->broken_ctx, why); /* may stop the server */
    }
}

/* After the writer stopped: the last fsync, then the syncer ends. */
static void stop_syncer(struct store *st)
{
    if (!st->has_syncer)
        return;
    pthread_mutex_lock(&st->sync_lock);
    st->is_sync_stopping = true;
    pthread_cond_signal(&st->sync_wake);
    pthread_mutex_unlock(&st->sync_lock);
    pthread_join(st->syncer, NULL);
    st->has_syncer = false;
}

int store_start(struct store *st, uv_loop_t *loop)
{
    if (st->redis != NULL)
        return rstore_start(st->redis, loop);
    if (uv_async_init(loop, &st->async, on_async) != 0)
        return -1;
    st->async.data = st;
    st->has_async = true;
    if (st->durability == STORE_DURABLE_PROCESS) {
        if (pthread_create(&st->syncer, NULL, syncer, st) != 0) {
            uv_close((uv_handle_t *)&st->async, NULL);
            st->has_async = false;
            return -1;
        }
        st->has_syncer = true;
    }
    if (pthread_create(&st->thread, NULL, writer, st) != 0) {
        stop_syncer(st);
        uv_close((uv_handle_t *)&st->async, NULL);
        st->has_async = false;
        return -1;
    }
    st->has_thread = true;
    return 0;
}

void store_submit(struct store *st, struct store_job *job)
{
    if (st->redis != NULL) {
        rstore_submit(st->redis, job);
        return;
    }
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
    if (st->redis != NULL) {
        rstore_close(st->redis);
        free(st);
        return;
    }
    if (st->has_thread) {
        pthread_mutex_lock(&st->lock);
        st->is_stopping = true;
        pthread_cond_signal(&st->wake);
        pthread_mutex_unlock(&st->lock);
        pthread_join(st->thread, NULL);
    }
    stop_syncer(st);
    if (st->wal_fd != -1)
        close(st->wal_fd);
    if (st->has_async)
        deliver_done(st); /* the last callbacks, on this (the loop) thread */
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    for (int i = 0; i < MOVE_LEVELS; i++)
        if (st->move_stmt[i] != st->stmt[ST_MOVE_INSERT])
            sqlite3_finalize(st->move_stmt[i]);
    /* best effort: a clean close checkpoints the WAL into the database */
    sqlite3_close(st->db);
    free(st->path);
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->wake);
    pthread_mutex_destroy(&st->sync_lock);
    pthread_cond_destroy(&st->sync_wake);
    if (st->has_async)
        uv_close((uv_handle_t *)&st->async, free_store);
    else
        free(st);
}

void store_get_metrics(struct store *st, struct store_metrics *out)
{
    if (st->redis != NULL) {
        rstore_get_metrics(st->redis, out);
        return;
    }
    pthread_mutex_lock(&st->lock);
    *out = st->metrics;
    pthread_mutex_unlock(&st->lock);
}

/* Journal entries are made on the loop thread (store_op_new) and most
 * are freed there, by the journal's done callback: a free list on that
 * thread saves a calloc and a free per move. The writer frees only a
 * dropped backlog (free_backlog), straight to free(): its thread keeps
 * none, and a thread that never made an op keeps none either. */
#define OP_POOL_MAX 512
static _Thread_local struct pool op_pool;

struct store_op *store_op_new(void)
{
    if (op_pool.size == 0)
        pool_init(&op_pool, sizeof(struct store_op), OP_POOL_MAX);
    return pool_get(&op_pool);
}

static void ops_free(struct store_op *ops, bool is_pooled)
{
    while (ops != NULL) {
        struct store_op *next = ops->next;
        free(ops->log);
        if (is_pooled && op_pool.size != 0)
            pool_put(&op_pool, ops);
        else
            free(ops);
        ops = next;
    }
}

void store_ops_free(struct store_op *ops)
{
    ops_free(ops, true);
}

/* ---------- the Redis backend (store_redis.c) ---------- */

struct store *store_open_redis(const char *addr, char *err, size_t err_cap)
{
    struct rstore *r = rstore_open(addr, err, err_cap);
    if (r == NULL)
        return NULL;
    struct store *st = mem_calloc(1, sizeof *st);
    st->redis = r;
    return st;
}

bool store_is_shared(const struct store *st)
{
    return st->redis != NULL;
}

void store_redis_set_wait_ms(struct store *st, uint32_t wait_ms)
{
    if (st->redis != NULL)
        rstore_set_wait_ms(st->redis, wait_ms);
}

/* ---------- tooling ---------- */

int store_check(const char *dir, FILE *out)
{
    char path[4096], err[256];
    sqlite3 *db;

    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    /* Before SQLite opens it: a reader ignores a damaged WAL silently. */
    int damaged = check_wal(path, err, sizeof err) != 0;
    if (damaged)
        fprintf(out, "%s\n", err);
    if (open_db(path, SQLITE_OPEN_READONLY, &db, err, sizeof err) != 0) {
        fprintf(out, "cannot open: %s\n", err);
        return 2;
    }
    int rc = check_db(db, path, out, NULL, 0);
    sqlite3_close(db);
    if (rc == 2)
        return 2;
    return damaged || rc != 0;
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
