/* Unit tests for store/: migrations from empty and from every earlier
 * schema, the rating maths, and the journal round trip. */
#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "check.h"
#include "store/rating.h"
#include "store/store.h"

static char *tmpdir(void)
{
    static char path[64];
    strcpy(path, "/tmp/tavolo-store-XXXXXX");
    if (mkdtemp(path) == NULL)
        FAIL_("mkdtemp");
    return path;
}

static int scalar(const char *db_path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int v = -1;
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

TEST(rating_maths)
{
    CHECK(fabs(rating_expected(1500, 1500) - 0.5) < 1e-12);
    CHECK(fabs(rating_delta(1500, 1500, 1.0) - 16.0) < 1e-9);
    CHECK(fabs(rating_delta(1500, 1500, 0.0) + 16.0) < 1e-9);
    CHECK(fabs(rating_delta(1500, 1500, 0.5)) < 1e-9);
    /* 400 points apart: expected 10/11 for the stronger side */
    CHECK(fabs(rating_expected(1900, 1500) - 10.0 / 11.0) < 1e-12);
    CHECK(fabs(rating_delta(1900, 1500, 1.0) - 32.0 / 11.0) < 1e-9);
    CHECK(fabs(rating_delta(1500, 1900, 1.0) - 32.0 * 10.0 / 11.0) < 1e-9);
    /* zero-sum between equal-sized sides */
    CHECK(fabs(rating_delta(1620, 1480, 1.0) + rating_delta(1480, 1620, 0.0)) < 1e-9);
}

/* Hearts (PROTOCOL §14): every pair of seats a game won by the lower
 * total, each move scaled by 1/(N-1). */
TEST(rating_seats_pairwise)
{
    double d[4];
    /* equal ratings: totals 10 20 20 30 */
    rating_seats(4, (const double[]){1500, 1500, 1500, 1500},
                 (const unsigned[]){10, 20, 20, 30}, -1, d);
    CHECK(fabs(d[0] - 16.0) < 1e-9);  /* (16 + 16 + 16) / 3 */
    CHECK(fabs(d[1]) < 1e-9);         /* (-16 + 0 + 16) / 3 */
    CHECK(fabs(d[2]) < 1e-9);
    CHECK(fabs(d[3] + 16.0) < 1e-9);
    /* a 1900 seat beaten by two 1500s, beating the third */
    rating_seats(4, (const double[]){1900, 1500, 1500, 1500},
                 (const unsigned[]){30, 10, 20, 40}, -1, d);
    CHECK(fabs(d[0] - (-32.0 * 10 / 11 * 2 + 32.0 / 11) / 3) < 1e-9); /* -608/33 */
    CHECK(fabs(d[0] + 608.0 / 33.0) < 1e-9);
    /* seat 1: beats 0 (32*10/11), beats 2 and 3 (16 each) */
    CHECK(fabs(d[1] - (320.0 / 11 + 32) / 3) < 1e-9);
    CHECK(fabs(d[2] - (320.0 / 11 + 0) / 3) < 1e-9);  /* beats 0 and 3, loses to 1 */
    CHECK(fabs(d[3] - (-32.0 / 11 - 32) / 3) < 1e-9); /* loses all */
    CHECK(fabs(d[0] + d[1] + d[2] + d[3]) < 1e-9);    /* zero-sum */
    /* all equal totals: no move */
    rating_seats(4, (const double[]){1600, 1500, 1400, 1500},
                 (const unsigned[]){26, 26, 26, 26}, -1, d);
    CHECK(fabs(d[0] - 32.0 * (0.5 - rating_expected(1600, 1500)) * 2 / 3
               - 32.0 * (0.5 - rating_expected(1600, 1400)) / 3) < 1e-9);
    /* a forfeiting seat loses every pair, even with the lowest total */
    rating_seats(4, (const double[]){1500, 1500, 1500, 1500},
                 (const unsigned[]){0, 20, 20, 30}, 0, d);
    CHECK(fabs(d[0] + 16.0) < 1e-9);
    CHECK(fabs(d[1] - 32.0 / 3) < 1e-9); /* beats 0 and 3, draws 2 */
    CHECK(fabs(d[3] + 16.0 / 3) < 1e-9); /* beats 0, loses to 1 and 2 */
    /* two seats: one game, not scaled */
    rating_seats(2, (const double[]){1500, 1500}, (const unsigned[]){5, 9}, -1, d);
    CHECK(fabs(d[0] - 16.0) < 1e-9);
    CHECK(fabs(d[1] + 16.0) < 1e-9);
}

TEST(migrate_from_empty)
{
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/a.db", tmpdir());
    CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), 0);
    CHECK_INT(scalar(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                           "('accounts', 'matches', 'seats', 'moves')"), 4);
    /* idempotent */
    CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), 0);
}

TEST(migrate_from_every_earlier_schema_keeps_data)
{
    for (int from = 1; from < STORE_SCHEMA_VERSION; from++) {
        char path[256], err[256];
        snprintf(path, sizeof path, "%s/v%d.db", tmpdir(), from);
        CHECK_INT(store_migrate_file(path, from, err, sizeof err), 0);
        CHECK_INT(scalar(path, "PRAGMA user_version"), from);
        sqlite3 *db;
        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        /* from schema 4 on, a record is a row of records */
        CHECK(sqlite3_exec(db, from < 4
                ? "INSERT INTO accounts(name, hash, rating, played,"
                  " won, created_at) VALUES ('old', 'h', 1600, 1, 1, 0)"
                : "INSERT INTO accounts(name, hash, created_at) VALUES ('old', 'h', 0);"
                  "INSERT INTO records(name, game, rating, played, won)"
                  " VALUES ('old', 'briscola', 1600, 1, 1)",
                           NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(db);
        CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), 0);
        CHECK_INT(scalar(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
        /* schema 4: the old record is the name's briscola record */
        CHECK_INT(scalar(path, "SELECT rating FROM records WHERE name = 'old'"
                               " AND game = 'briscola'"), 1600);
        CHECK_INT(scalar(path, "SELECT played * 10 + won FROM records"
                               " WHERE name = 'old'"), 11);
        CHECK_INT(scalar(path, "SELECT COUNT(*) FROM records"), 1);
        CHECK_INT(scalar(path, "SELECT COUNT(*) FROM pragma_table_info('accounts')"
                               " WHERE name = 'rating'"), 0);
    }
}

/* Schema 3 with accounts of every kind: each record becomes a briscola
 * row exactly (a fresh account too), and --check-data passes. */
TEST(migrate_3_to_4_moves_records_to_briscola)
{
    const char *dir = tmpdir();
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    CHECK_INT(store_migrate_file(path, 3, err, sizeof err), 0);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
        "INSERT INTO accounts(name, hash, rating, played, won, lost, drawn, created_at)"
        " VALUES ('ann', 'h', 1523.5, 5, 3, 1, 1, 0), ('bo', 'h', 1476.5, 5, 1, 3, 1, 0),"
        " ('cy', 'h', 1500, 0, 0, 0, 0, 0)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_migrate_file(path, 4, err, sizeof err), 0);
    CHECK_INT(scalar(path, "PRAGMA user_version"), 4);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM records WHERE game = 'briscola'"), 3);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM records WHERE game != 'briscola'"), 0);
    CHECK_INT(scalar(path, "SELECT rating * 10 FROM records WHERE name = 'ann'"), 15235);
    CHECK_INT(scalar(path, "SELECT played * 1000 + won * 100 + lost * 10 + drawn"
                           " FROM records WHERE name = 'ann'"), 5311);
    CHECK_INT(scalar(path, "SELECT played * 1000 + won * 100 + lost * 10 + drawn"
                           " FROM records WHERE name = 'bo'"), 5131);
    CHECK_INT(scalar(path, "SELECT rating FROM records WHERE name = 'cy'"), 1500);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM accounts"), 3);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM pragma_table_info('accounts')"), 3);
    /* --check-data knows only the current schema */
    CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), 0);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
    /* an impossible record is found in the new table */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE records SET played = 9 WHERE name = 'bo'",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    report = tmpfile();
    CHECK_INT(store_check(dir, report), 1);
    char text[1024] = "";
    rewind(report);
    size_t n = fread(text, 1, sizeof text - 1, report);
    text[n] = '\0';
    CHECK(strstr(text, "accounts with impossible records: 1") != NULL);
    fclose(report);
}

TEST(newer_schema_refused)
{
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/n.db", tmpdir());
    CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), 0);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), -1);
    CHECK(strstr(err, "newer") != NULL);
}

/* ---------- the writer thread, driven by a loop ---------- */

static int n_done;

static void count_done(struct store_job *job)
{
    (void)job;
    n_done++;
}

static struct store_job *job_new(enum store_job_kind kind, const char *name)
{
    struct store_job *j = calloc(1, sizeof *j);
    j->kind = kind;
    if (name)
        snprintf(j->name, sizeof j->name, "%s", name);
    j->done = count_done;
    return j;
}

static void run_until(uv_loop_t *loop, int want)
{
    for (int i = 0; i < 5000 && n_done < want; i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    CHECK_INT(n_done, want);
}

static struct store_op *op_new(enum store_op_kind kind, uint64_t id)
{
    struct store_op *op = calloc(1, sizeof *op);
    op->kind = kind;
    op->match_id = id;
    return op;
}

static void open_match(void *ctx, const struct store_open_match *m)
{
    struct store_open_match *out = ctx;
    *out = *m;
    out->moves = malloc(m->n_moves * sizeof *m->moves + 1);
    if (m->n_moves > 0)
        memcpy(out->moves, m->moves, m->n_moves * sizeof *m->moves);
}

TEST(journal_round_trip_results_and_queries)
{
    char err[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);

    struct store_job *reg = job_new(STORE_JOB_REGISTER, "ann");
    strcpy(reg->hash, "$argon2id$fake");
    store_submit(st, reg);
    struct store_job *reg2 = job_new(STORE_JOB_REGISTER, "ann");
    store_submit(st, reg2);
    run_until(&loop, 2);
    CHECK_INT(reg->rc, STORE_OK);
    CHECK_INT(reg2->rc, STORE_EXISTS);

    /* start + two moves, in one job */
    struct store_op *start = op_new(STORE_OP_START, 7);
    strcpy(start->game, "briscola");
    start->n_seats = 2;
    strcpy(start->seats[0].name, "ann");
    strcpy(start->seats[0].token, "0123456789abcdef0123456789abcdef");
    start->seats[0].is_registered = true;
    strcpy(start->seats[1].name, "bo");
    strcpy(start->seats[1].token, "fedcba9876543210fedcba9876543210");
    strcpy(start->seats[1].seed, "00ff");
    start->seats[1].side = 1;
    strcpy(start->secret, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    struct store_op *m1 = op_new(STORE_OP_MOVE, 7);
    m1->seq = 1; m1->seat = 0; strcpy(m1->cards, "Ac");
    struct store_op *m2 = op_new(STORE_OP_MOVE, 7);
    m2->seq = 2; m2->seat = 1; strcpy(m2->cards, "2d 2h 2s"); m2->is_timeout = true;
    m2->move_kind = 1; /* a pass: the full move is kept */
    start->next = m1;
    m1->next = m2;
    struct store_job *j1 = job_new(STORE_JOB_JOURNAL, NULL);
    j1->ops = start;
    store_submit(st, j1);
    run_until(&loop, 3);
    CHECK_INT(j1->rc, STORE_OK);

    struct store_open_match m;
    memset(&m, 0, sizeof m);
    CHECK_INT(store_each_open_match(st, open_match, &m), 0);
    CHECK_INT(m.id, 7);
    CHECK_STR(m.game, "briscola");
    CHECK_INT(m.n_draws, 0);
    CHECK_STR(m.secret, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    CHECK_STR(m.seats[1].token, "fedcba9876543210fedcba9876543210");
    CHECK_STR(m.seats[1].seed, "00ff");
    CHECK_STR(m.seats[0].seed, "");
    CHECK_INT(m.n_moves, 2);
    CHECK_STR(m.moves[0].cards, "Ac");
    CHECK_INT(m.moves[0].kind, 0);
    CHECK_STR(m.moves[1].cards, "2d 2h 2s");
    CHECK_INT(m.moves[1].kind, 1);
    CHECK(m.moves[1].is_timeout);
    CHECK_INT(store_max_match_id(st), 7);
    free(m.moves);

    /* a duplicate move (same seq) fails the whole commit */
    struct store_op *dup = op_new(STORE_OP_MOVE, 7);
    dup->seq = 2; dup->seat = 1; strcpy(dup->cards, "3d");
    struct store_job *j2 = job_new(STORE_JOB_JOURNAL, NULL);
    j2->ops = dup;
    store_submit(st, j2);
    run_until(&loop, 4);
    CHECK_INT(j2->rc, STORE_FAILED);

    /* the end: ann (team0) wins 70-50 against a guest */
    struct store_op *end = op_new(STORE_OP_END, 7);
    strcpy(end->result, "team0");
    strcpy(end->reason, "score");
    end->is_teams = true;
    end->points[0] = 70;
    end->points[1] = 50;
    end->log = strdup("START 7 briscola 2 ann bo\n");
    struct store_job *j3 = job_new(STORE_JOB_JOURNAL, NULL);
    j3->ops = end;
    store_submit(st, j3);
    struct store_job *stats = job_new(STORE_JOB_STATS, "ann");
    struct store_job *guest = job_new(STORE_JOB_STATS, "bo");
    struct store_job *top = job_new(STORE_JOB_TOP, NULL);
    struct store_job *hist = job_new(STORE_JOB_HISTORY, "bo");
    store_submit(st, stats);
    store_submit(st, guest);
    store_submit(st, top);
    store_submit(st, hist);
    run_until(&loop, 9);
    CHECK_INT(j3->rc, STORE_OK);
    CHECK_INT(stats->rc, STORE_OK);
    CHECK_INT(stats->stats.played, 1);
    CHECK_INT(stats->stats.won, 1);
    CHECK(fabs(stats->stats.rating - 1516.0) < 1e-9); /* vs a 1500 guest */
    CHECK_INT(guest->rc, STORE_NOTFOUND);
    CHECK_INT(top->n_rows, 1);
    CHECK_STR(top->top[0].name, "ann");
    CHECK_INT(hist->n_rows, 1);
    CHECK_INT(hist->history[0].match_id, 7);
    CHECK_STR(hist->history[0].result, "team0"); /* as in END, whoever asks */
    CHECK_INT(hist->history[0].points, 50);
    memset(&m, 0, sizeof m);
    CHECK_INT(store_each_open_match(st, open_match, &m), 0);
    CHECK_INT(m.id, 0); /* no longer in play */

    /* recording the same END twice changes nothing */
    struct store_op *again = op_new(STORE_OP_END, 7);
    strcpy(again->result, "team0");
    strcpy(again->reason, "score");
    again->is_teams = true;
    struct store_job *j4 = job_new(STORE_JOB_JOURNAL, NULL);
    j4->ops = again;
    struct store_job *stats2 = job_new(STORE_JOB_STATS, "ann");
    store_submit(st, j4);
    store_submit(st, stats2);
    run_until(&loop, 11);
    CHECK_INT(stats2->stats.played, 1);

    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
    struct store_job *jobs[] = {reg, reg2, j1, j2, j3, stats, guest, top, hist, j4, stats2};
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        store_ops_free(jobs[i]->ops);
        free(jobs[i]);
    }
    free(m.moves);
}

/* Schema 5 (PROTOCOL §14): START says who plays each seat, REPLACED
 * gives a person's seat to a bot and keeps the person's name; a match in
 * play reads back with both; an impossible bot is a finding. */
TEST(journal_bots_and_replaced_seats_round_trip)
{
    char err[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;

    struct store_op *start = op_new(STORE_OP_START, 3);
    strcpy(start->game, "briscola");
    start->n_seats = 2;
    strcpy(start->seats[0].name, "ann");
    strcpy(start->seats[0].token, "0123456789abcdef0123456789abcdef");
    strcpy(start->seats[1].name, "~hard1");
    start->seats[1].bot = 3; /* hard + 1 */
    start->seats[1].side = 1;
    strcpy(start->secret, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    struct store_job *j1 = job_new(STORE_JOB_JOURNAL, NULL);
    j1->ops = start;
    store_submit(st, j1);
    struct store_op *rep = op_new(STORE_OP_REPLACED, 3);
    rep->seat = 0;
    rep->seats[0].bot = 2; /* normal + 1 */
    struct store_job *j2 = job_new(STORE_JOB_JOURNAL, NULL);
    j2->ops = rep;
    run_until(&loop, 1);
    CHECK_INT(j1->rc, STORE_OK);

    struct store_open_match m;
    memset(&m, 0, sizeof m);
    CHECK_INT(store_each_open_match(st, open_match, &m), 0);
    CHECK_INT(m.seats[0].bot, 0);
    CHECK(!m.seats[0].is_replaced);
    CHECK_INT(m.seats[1].bot, 3);
    CHECK(!m.seats[1].is_replaced);
    CHECK_STR(m.seats[1].name, "~hard1");
    free(m.moves);

    store_submit(st, j2);
    run_until(&loop, 2);
    CHECK_INT(j2->rc, STORE_OK);
    memset(&m, 0, sizeof m);
    CHECK_INT(store_each_open_match(st, open_match, &m), 0);
    CHECK_INT(m.seats[0].bot, 2);
    CHECK(m.seats[0].is_replaced);
    CHECK_STR(m.seats[0].name, "ann"); /* END counts it as ann's loss */
    CHECK_STR(m.seats[0].token, "");   /* the token is no one's now */
    CHECK_INT(m.seats[1].bot, 3);
    free(m.moves);

    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
    char path[512];
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE seats SET bot = 0 WHERE seat = 0", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    report = tmpfile();
    CHECK_INT(store_check(dir, report), 1);
    char text[1024] = "";
    rewind(report);
    size_t n = fread(text, 1, sizeof text - 1, report);
    text[n] = '\0';
    CHECK(strstr(text, "seats with an impossible bot: 1") != NULL);
    fclose(report);
    store_ops_free(j1->ops);
    free(j1);
    store_ops_free(j2->ops);
    free(j2);
}

/* Schema 4 to 5: the seats of older matches are people's. */
TEST(migrate_4_to_5_seats_are_people)
{
    const char *dir = tmpdir();
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    CHECK_INT(store_migrate_file(path, 4, err, sizeof err), 0);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
        "INSERT INTO matches(id, game, n_seats, state, deal, started_at, secret)"
        " VALUES (1, 'briscola', 2, 'playing', '', 0, '');"
        "INSERT INTO seats(match_id, seat, name, token, registered, seed, side)"
        " VALUES (1, 0, 'ann', 't0', 0, '', 0), (1, 1, 'bo', 't1', 0, '', 1)",
        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_migrate_file(path, 5, err, sizeof err), 0);
    CHECK_INT(scalar(path, "PRAGMA user_version"), 5);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM seats WHERE bot = 0 AND replaced = 0"), 2);
    /* --check-data knows only the current schema */
    CHECK_INT(store_migrate_file(path, STORE_SCHEMA_VERSION, err, sizeof err), 0);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
}

/* Schema 5 to 6: moves, rebuilt WITHOUT ROWID, keeps every row, and
 * every match in play restores as it did. The schema-5 file is written
 * with the INSERT the schema-5 writer used, the matches' moves
 * interleaved (a rowid order unlike the key's). */
struct restored {
    struct store_open_match m[4];
    unsigned n;
};

static void collect_match(void *ctx, const struct store_open_match *m)
{
    struct restored *r = ctx;
    if (r->n < 4)
        open_match(&r->m[r->n++], m);
}

static void moves_text(const char *path, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    size_t len = 0;
    out[0] = '\0';
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT match_id, seq, seat, card, timeout, kind"
                             " FROM moves ORDER BY match_id, seq", -1, &s, NULL) == SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW && len + 64 < cap)
        len += (size_t)snprintf(out + len, cap - len, "%lld %d %d %s %d %d\n",
                                sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1),
                                sqlite3_column_int(s, 2),
                                (const char *)sqlite3_column_text(s, 3),
                                sqlite3_column_int(s, 4), sqlite3_column_int(s, 5));
    sqlite3_finalize(s);
    sqlite3_close(db);
}

TEST(migrate_5_to_6_moves_without_rowid_restore_identically)
{
    const char *dir = tmpdir();
    char path[512], err[256];
    static char before[65536], after[65536];
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    CHECK_INT(store_migrate_file(path, 5, err, sizeof err), 0);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    /* matches 3 and 5 in play (5 with a bot on seat 1), 4 over */
    CHECK(sqlite3_exec(db,
        "INSERT INTO matches(id, game, n_seats, state, deal, started_at, secret)"
        " VALUES (3, 'briscola', 2, 'playing', '', 0, 'aa'),"
        " (4, 'scopa', 2, 'over', '', 0, 'bb'), (5, 'hearts', 4, 'playing', '', 0, 'cc');"
        "UPDATE matches SET result = 'team0', reason = 'forfeit' WHERE id = 4;"
        "INSERT INTO seats(match_id, seat, name, token, registered, seed, side, bot)"
        " VALUES (3, 0, 'ann', 't0', 0, '', 0, 0), (3, 1, 'bo', 't1', 0, '0f', 1, 0),"
        " (4, 0, 'ann', 't2', 0, '', 0, 0), (4, 1, 'cy', 't3', 0, '', 1, 0),"
        " (5, 0, 'ann', 't4', 0, '', 0, 0), (5, 1, 'bot', '', 0, '', 1, 2),"
        " (5, 2, 'cy', 't5', 0, '', 2, 0), (5, 3, 'di', 't6', 0, '', 3, 0)",
        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_stmt *ins;
    CHECK(sqlite3_prepare_v2(db, "INSERT INTO moves(match_id, seq, seat, card, timeout, kind)"
                             " VALUES (?, ?, ?, ?, ?, ?)", -1, &ins, NULL) == SQLITE_OK);
    static const char *const cards[] = {"Ac", "2d 3h 4s", "Kb", "7c", "Qd Jd"};
    CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    for (int seq = 1; seq <= 40; seq++) {
        for (int id = 5; id >= 3; id--) {
            int seats = id == 5 ? 4 : 2;
            sqlite3_bind_int(ins, 1, id);
            sqlite3_bind_int(ins, 2, seq);
            sqlite3_bind_int(ins, 3, seq % seats);
            sqlite3_bind_text(ins, 4, cards[(seq * id) % 5], -1, SQLITE_STATIC);
            sqlite3_bind_int(ins, 5, seq % 7 == 0);
            sqlite3_bind_int(ins, 6, id == 5 && seq <= 4 ? 1 : 0);
            CHECK_INT(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
    }
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    moves_text(path, before, sizeof before);
    CHECK(strlen(before) > 100);

    /* The server's own path: store_open migrates, then runs its checks. */
    struct store *st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    CHECK_INT(scalar(path, "PRAGMA user_version"), 6);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'moves'"
                           " AND sql LIKE '%WITHOUT ROWID%'"), 1);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE tbl_name = 'moves'"
                           " AND type = 'index'"), 0); /* the key is the table */
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'moves_6'"), 0);
    /* the migration's frames are in the file, and the WAL truncated */
    char wal[560];
    struct stat wb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(stat(wal, &wb) == 0);
    CHECK_INT(wb.st_size, 0);
    moves_text(path, after, sizeof after);
    CHECK_STR(after, before);
    struct restored r;
    memset(&r, 0, sizeof r);
    CHECK_INT(store_each_open_match(st, collect_match, &r), 0);
    CHECK_INT(r.n, 2);
    for (unsigned k = 0; k < r.n; k++) {
        const struct store_open_match *m = &r.m[k];
        unsigned id = k == 0 ? 3 : 5, seats = id == 5 ? 4 : 2;
        CHECK_INT(m->id, id);
        CHECK_INT(m->n_seats, seats);
        CHECK_INT(m->n_moves, 40);
        for (unsigned i = 0; i < m->n_moves; i++) {
            unsigned seq = i + 1;
            CHECK_INT(m->moves[i].seat, seq % seats);
            CHECK_STR(m->moves[i].cards, cards[(seq * id) % 5]);
            CHECK_INT(m->moves[i].is_timeout, seq % 7 == 0);
            CHECK_INT(m->moves[i].kind, id == 5 && seq <= 4 ? 1 : 0);
        }
        free(r.m[k].moves);
    }
    CHECK_INT(r.m[1].seats[1].bot, 2);
    CHECK_STR(r.m[0].seats[1].seed, "0f");

    /* The writer goes on in the new table; the key still refuses a move
     * said twice. */
    uv_loop_t loop;
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    struct store_op *m41 = op_new(STORE_OP_MOVE, 3);
    m41->seq = 41; m41->seat = 1; strcpy(m41->cards, "3c");
    struct store_job *j1 = job_new(STORE_JOB_JOURNAL, NULL);
    j1->ops = m41;
    store_submit(st, j1);
    run_until(&loop, 1);
    CHECK_INT(j1->rc, STORE_OK);
    struct store_op *dup = op_new(STORE_OP_MOVE, 3);
    dup->seq = 41; dup->seat = 1; strcpy(dup->cards, "4c");
    struct store_job *j2 = job_new(STORE_JOB_JOURNAL, NULL);
    j2->ops = dup;
    store_submit(st, j2);
    run_until(&loop, 2);
    CHECK_INT(j2->rc, STORE_FAILED);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM moves"), 121);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM moves WHERE match_id = 3 AND seq = 41"
                           " AND card = '3c'"), 1);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
    store_ops_free(j1->ops);
    free(j1);
    store_ops_free(j2->ops);
    free(j2);
}

TEST(unwritable_directory_is_reported)
{
    char err[256];
    if (geteuid() == 0) {
        /* root writes anywhere: use a path under a file instead */
        char path[256];
        snprintf(path, sizeof path, "%s/file", tmpdir());
        FILE *f = fopen(path, "w");
        fclose(f);
        strcat(path, "/data");
        CHECK(store_open(path, err, sizeof err) == NULL);
    } else {
        char path[256];
        snprintf(path, sizeof path, "%s/ro", tmpdir());
        mkdir(path, 0500);
        CHECK(store_open(path, err, sizeof err) == NULL);
    }
    CHECK(strlen(err) > 0);
}

/* ---------- a full disk, a deleted file, a damaged file (issue 8) ---------- */

static struct store_op *start_op(uint64_t id)
{
    struct store_op *op = op_new(STORE_OP_START, id);
    strcpy(op->game, "briscola");
    op->n_seats = 2;
    for (unsigned i = 0; i < 2; i++) {
        snprintf(op->seats[i].name, sizeof op->seats[i].name, "p%u_%u",
                 (unsigned)id, i);
        memset(op->seats[i].token, 'a' + (int)i, STORE_TOKEN_LEN);
    }
    /* long fields: a START fills pages */
    memset(op->secret, 'f', STORE_SECRET_HEX);
    for (unsigned i = 0; i < 2; i++)
        memset(op->seats[i].seed, 'c', STORE_SEED_MAX);
    return op;
}

static struct store_op *move_op(uint64_t id, unsigned seq)
{
    struct store_op *op = op_new(STORE_OP_MOVE, id);
    op->seq = seq;
    op->seat = seq % 2;
    strcpy(op->cards, "Ac");
    return op;
}

static struct store_job *journal(struct store *st, struct store_op *ops)
{
    struct store_job *j = job_new(STORE_JOB_JOURNAL, NULL);
    j->ops = ops;
    store_submit(st, j);
    return j;
}

static void free_job(struct store_job *j)
{
    store_ops_free(j->ops);
    free(j);
}

static unsigned n_open, n_open_moves[64];

static void count_open(void *ctx, const struct store_open_match *m)
{
    (void)ctx;
    if (m->id < 64)
        n_open_moves[m->id] = m->n_moves;
    n_open++;
}

/* Matches start while the quota refuses commits; moves go on (some of
 * them would fit in pages already there); then space returns. Nothing
 * may be on disk that builds on a write that is not, and once space is
 * back, every match is there with every move. */
TEST(full_disk_commits_are_kept_and_retried_in_order)
{
    char err[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    store_set_tick_ms(st, 50);
    CHECK_INT(store_start(st, &loop), 0);
    CHECK_INT(store_set_quota(st, 1), 0); /* far below what is there */

    struct store_job *jobs[256];
    size_t n = 0;
    n_done = 0;
    /* 40 matches, each START then moves 0..3, interleaved. */
    for (uint64_t id = 1; id <= 40; id++)
        jobs[n++] = journal(st, start_op(id));
    for (unsigned seq = 0; seq < 4; seq++)
        for (uint64_t id = 1; id <= 40; id++)
            jobs[n++] = journal(st, move_op(id, seq));
    run_until(&loop, (int)n);
    unsigned n_failed = 0;
    for (size_t i = 0; i < n; i++)
        n_failed += jobs[i]->rc == STORE_FAILED;
    CHECK(n_failed > 0);
    struct store_metrics sm;
    store_get_metrics(st, &sm);
    CHECK(sm.n_backlog > 0);

    /* Space returns: the next tick (or commit) writes what waits. */
    CHECK_INT(store_set_quota(st, 0), 0);
    for (int i = 0; i < 500; i++) {
        store_get_metrics(st, &sm);
        if (sm.n_backlog == 0)
            break;
        usleep(10000);
    }
    CHECK_INT(sm.n_backlog, 0);
    jobs[n++] = journal(st, move_op(1, 4));
    run_until(&loop, (int)n);
    CHECK_INT(jobs[n - 1]->rc, STORE_OK);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    for (size_t i = 0; i < n; i++)
        free_job(jobs[i]);

    char report[512] = "";
    FILE *f = fmemopen(report, sizeof report - 1, "w");
    int rc = store_check(dir, f);
    fclose(f);
    if (rc != 0)
        FAIL_("store_check: %d: %s", rc, report);
    st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    n_open = 0;
    CHECK_INT(store_each_open_match(st, count_open, NULL), 0);
    CHECK_INT(n_open, 40);
    CHECK_INT(n_open_moves[1], 5);
    for (unsigned id = 2; id <= 40; id++)
        CHECK_INT(n_open_moves[id], 4);
    store_close(st);
}

static struct store_open_match kept[8];
static unsigned n_kept;

static void keep_open(void *ctx, const struct store_open_match *m)
{
    (void)ctx;
    if (n_kept < 8)
        open_match(&kept[n_kept++], m);
}

/* The writer puts a group's moves in with multi-row INSERTs (2^k rows a
 * statement). Whatever the split — 1 to 200 moves a job, STARTs and
 * TOKENs between them, a job refused by the schema in the middle — every
 * move is there, once, in order, with its fields, and the refused job's
 * are not. */
TEST(batched_moves_keep_order_fields_and_refusals)
{
    char err[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);

    struct store_job *jobs[64];
    size_t n = 0;
    unsigned seq[4] = {0};
    n_done = 0;
    jobs[n++] = journal(st, start_op(1));
    jobs[n++] = journal(st, start_op(2));
    /* Jobs of 1, 2, ... moves, alternating matches, some with a START or a
     * TOKEN in the middle of their moves. */
    for (unsigned k = 1; k <= 200; k += k < 8 ? 1 : 37) {
        struct store_op *head = NULL, **tail = &head;
        for (unsigned i = 0; i < k; i++) {
            uint64_t id = 1 + (i + k) % 2;
            struct store_op *op = move_op(id, seq[id]++);
            snprintf(op->cards, sizeof op->cards, "%uc", (op->seq % 9) + 1);
            op->move_kind = op->seq % 3;
            op->is_timeout = op->seq % 5 == 0;
            *tail = op;
            tail = &op->next;
            if (k == 45 && i == 20) {
                *tail = start_op(3);
                tail = &(*tail)->next;
            }
            if (k == 82 && i == 70) {
                struct store_op *t = op_new(STORE_OP_TOKEN, 1);
                t->seat = 1;
                memset(t->seats[1].token, 'z', STORE_TOKEN_LEN);
                *tail = t;
                tail = &t->next;
            }
        }
        jobs[n++] = journal(st, head);
    }
    /* A job the schema refuses (a move said twice) among good ones. */
    struct store_op *dup = move_op(2, 0);
    dup->next = move_op(2, 500);
    jobs[n++] = journal(st, dup);
    jobs[n++] = journal(st, move_op(3, 0));
    run_until(&loop, (int)n);
    for (size_t i = 0; i < n; i++)
        CHECK_INT(jobs[i]->rc, i == n - 2 ? STORE_FAILED : STORE_OK);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    for (size_t i = 0; i < n; i++)
        free_job(jobs[i]);

    st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    n_kept = 0;
    CHECK_INT(store_each_open_match(st, keep_open, NULL), 0);
    CHECK_INT(n_kept, 3);
    for (unsigned m = 0; m < 3; m++) {
        const struct store_open_match *om = &kept[m];
        unsigned want = om->id == 3 ? 1 : seq[om->id];
        CHECK_INT(om->n_moves, want);
        for (unsigned i = 0; om->id != 3 && i < om->n_moves; i++) {
            char cards[8];
            snprintf(cards, sizeof cards, "%uc", (i % 9) + 1);
            CHECK_STR(om->moves[i].cards, cards);
            CHECK_INT(om->moves[i].seat, i % 2);
            CHECK_INT(om->moves[i].kind, i % 3);
            CHECK_INT(om->moves[i].is_timeout, i % 5 == 0);
        }
        if (om->id == 1)
            CHECK_INT(om->seats[1].token[0], 'z');
        free(om->moves);
    }
    CHECK(seq[1] + seq[2] > 300);
    store_close(st);
}

static int n_broken;
static char broken_why[256];

static void on_broken(void *ctx, const char *why)
{
    (void)ctx;
    n_broken++;
    snprintf(broken_why, sizeof broken_why, "%s", why);
}

TEST(deleted_database_file_breaks_the_store)
{
    char err[256], path[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    store_set_tick_ms(st, 20);
    store_on_broken(st, on_broken, NULL);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    struct store_job *j1 = journal(st, start_op(1));
    run_until(&loop, 1);
    CHECK_INT(j1->rc, STORE_OK);

    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    CHECK_INT(unlink(path), 0);
    for (int i = 0; i < 500 && n_broken == 0; i++)
        uv_run(&loop, UV_RUN_NOWAIT), usleep(2000);
    CHECK_INT(n_broken, 1);
    CHECK(strstr(broken_why, "tavolo.db is gone") != NULL);
    struct store_job *j2 = journal(st, move_op(1, 0));
    struct store_job *reg = job_new(STORE_JOB_REGISTER, "ann");
    store_submit(st, reg);
    run_until(&loop, 3);
    CHECK_INT(j2->rc, STORE_BROKEN);
    CHECK(j2->ops != NULL); /* not taken: its owner frees it */
    CHECK_INT(reg->rc, STORE_BROKEN);
    CHECK_INT(n_broken, 1); /* said once */
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free_job(j1);
    free_job(j2);
    free_job(reg);
}

/* Without the tick, a commit checks the file itself, at most every
 * 100 ms (store.c, CHECK_FILE_US): the first commit 100 ms after the
 * file went away finds it gone. */
TEST(deleted_database_file_found_by_a_commit_without_the_tick)
{
    char err[256], path[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    store_set_tick_ms(st, 0);
    store_on_broken(st, on_broken, NULL);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    struct store_job *j1 = journal(st, start_op(1));
    run_until(&loop, 1);
    CHECK_INT(j1->rc, STORE_OK);
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    CHECK_INT(unlink(path), 0);
    usleep(110000); /* what is tested is the interval itself */
    struct store_job *j2 = journal(st, move_op(1, 1));
    run_until(&loop, 2);
    CHECK_INT(j2->rc, STORE_BROKEN);
    for (int i = 0; i < 500 && n_broken == 0; i++)
        uv_run(&loop, UV_RUN_NOWAIT), usleep(2000);
    CHECK_INT(n_broken, 1);
    CHECK(strstr(broken_why, "tavolo.db is gone") != NULL);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free_job(j1);
    free_job(j2);
}

TEST(wal_checkpointed_while_running)
{
    char err[256], path[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    struct stat sb;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    store_set_tick_ms(st, 20);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    struct store_job *jobs[20];
    for (uint64_t id = 1; id <= 20; id++)
        jobs[id - 1] = journal(st, start_op(id));
    run_until(&loop, 20);
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    off_t size = 0;
    for (int i = 0; i < 200; i++) {
        CHECK_INT(stat(path, &sb), 0);
        size = sb.st_size;
        if (size > 4 * 4096)
            break;
        usleep(10000);
    }
    /* the main file holds the matches, not only the WAL */
    CHECK(size > 4 * 4096);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    for (int i = 0; i < 20; i++)
        free_job(jobs[i]);
}

/* A store that stops without closing (a crash) leaves its WAL. */
static void crash_with_wal(const char *dir)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char err[256];
        struct store *st = store_open(dir, err, sizeof err);
        if (st == NULL)
            _exit(2);
        uv_loop_t loop;
        uv_loop_init(&loop);
        store_start(st, &loop);
        n_done = 0;
        for (uint64_t id = 1; id <= 5; id++)
            journal(st, start_op(id));
        for (int i = 0; i < 5000 && n_done < 5; i++)
            uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
        _exit(n_done == 5 ? 0 : 3);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(damaged_wal_is_refused_not_started_empty)
{
    char err[512], path[256];
    const char *dir = tmpdir();
    crash_with_wal(dir);
    snprintf(path, sizeof path, "%s/tavolo.db-wal", dir);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    CHECK_INT(fseek(f, 16, SEEK_SET), 0); /* salt-1 of the header */
    CHECK_INT(fputc(0x5a, f), 0x5a);
    fclose(f);
    CHECK(store_open(dir, err, sizeof err) == NULL);
    CHECK(strstr(err, "write-ahead log") != NULL && strstr(err, "damaged") != NULL);
    char report[512] = "";
    f = fmemopen(report, sizeof report - 1, "w");
    int rc = store_check(dir, f);
    fclose(f);
    CHECK_INT(rc, 1);
    CHECK(strstr(report, "write-ahead log") != NULL);
}

TEST(sound_wal_after_a_crash_is_used)
{
    char err[256];
    const char *dir = tmpdir();
    crash_with_wal(dir);
    FILE *f = tmpfile();
    CHECK_INT(store_check(dir, f), 0);
    fclose(f);
    struct store *st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    n_open = 0;
    CHECK_INT(store_each_open_match(st, count_open, NULL), 0);
    CHECK_INT(n_open, 5);
    store_close(st);
}

TEST(damaged_file_is_not_called_unwritable)
{
    char err[512], path[256];
    const char *dir = tmpdir();
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    for (int i = 0; i < 8192; i++)
        fputc("garbage!"[i % 8], f);
    fclose(f);
    CHECK(store_open(dir, err, sizeof err) == NULL);
    if (strstr(err, "damaged") == NULL || strstr(err, "writable") != NULL)
        FAIL_("message: %s", err);
}

TEST(database_failing_its_checks_is_refused)
{
    char err[512], path[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    store_close(st);
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "INSERT INTO moves VALUES (99, 0, 0, 'Ac', 0, 0)",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(store_open(dir, err, sizeof err) == NULL);
    if (strstr(err, "moves of unknown matches: 1") == NULL)
        FAIL_("message: %s", err);
}

TEST(backlog_past_its_cap_breaks_the_store)
{
    char err[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    n_broken = 0;
    store_on_broken(st, on_broken, NULL);
    CHECK_INT(store_start(st, &loop), 0);
    CHECK_INT(store_set_quota(st, 1), 0);
    n_done = 0;
    struct store_op *starts = NULL, **at = &starts;
    for (uint64_t id = 1; id <= 40; id++) { /* more than the pages there */
        *at = start_op(id);
        at = &(*at)->next;
    }
    struct store_job *j1 = journal(st, starts);
    run_until(&loop, 1);
    CHECK_INT(j1->rc, STORE_FAILED);
    /* one job with more moves than the backlog may hold */
    struct store_op *ops = NULL, **tail = &ops;
    for (unsigned i = 0; i <= STORE_BACKLOG_MAX; i++) {
        *tail = move_op(1, i);
        tail = &(*tail)->next;
    }
    struct store_job *j2 = journal(st, ops);
    run_until(&loop, 2);
    CHECK_INT(j2->rc, STORE_FAILED);
    for (int i = 0; i < 500 && n_broken == 0; i++)
        uv_run(&loop, UV_RUN_NOWAIT), usleep(2000);
    CHECK_INT(n_broken, 1);
    CHECK(strstr(broken_why, "refused the journal for too long") != NULL);
    struct store_job *j3 = journal(st, move_op(1, 0));
    run_until(&loop, 3);
    CHECK_INT(j3->rc, STORE_BROKEN);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free_job(j1);
    free_job(j2);
    free_job(j3);
}

/* PROCESS: journal callbacks come back without an fsync of their own; the
 * syncer fsyncs the WAL in the background, at most every fsync_ms, and
 * SQLite is at synchronous = NORMAL. */
TEST(process_durability_fsyncs_in_the_background)
{
    char err[256], path[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    struct store_metrics m;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_set_durability(st, STORE_DURABLE_PROCESS, 200), 0);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    struct store_job *jobs[20];
    for (uint64_t id = 1; id <= 20; id++) {
        jobs[id - 1] = journal(st, start_op(id));
        run_until(&loop, (int)id); /* one commit each */
    }
    /* 20 commits within far less than 20 periods of 200 ms: at most a
     * few fsyncs (the first at once, then one per period). */
    store_get_metrics(st, &m);
    CHECK(m.n_commits >= 20);
    CHECK(m.n_fsyncs <= 1 + m.n_commits / 2);
    for (int i = 0; i < 100 && m.n_fsyncs < 2; i++) {
        usleep(10000);
        store_get_metrics(st, &m);
    }
    CHECK(m.n_fsyncs >= 2); /* the period after the first came */
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    for (int i = 0; i < 20; i++)
        free_job(jobs[i]);
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    CHECK_INT(scalar(path, "SELECT COUNT(*) FROM matches"), 20);
}

/* A schema-2 database with a match in play (a deal of recorded draws)
 * migrates, and the match loads with its draws and no secret; a result
 * that names a seat is rated seat against seat. */
TEST(schema_2_match_in_play_migrates_and_seat_results_record)
{
    const char *dir = tmpdir();
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/tavolo.db", dir);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_INT(store_migrate_file(path, 2, err, sizeof err), 0);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
        "INSERT INTO accounts(name, hash, created_at) VALUES ('ann', 'x', 0);"
        "INSERT INTO matches(id, game, n_seats, state, deal, started_at)"
        " VALUES (3, 'briscola', 2, 'playing', '5,0,38', 0);"
        "INSERT INTO seats VALUES (3, 0, 'ann', '0123456789abcdef0123456789abcdef', 1, 0);"
        "INSERT INTO seats VALUES (3, 1, 'bo', 'fedcba9876543210fedcba9876543210', 0, 0);"
        "INSERT INTO moves VALUES (3, 1, 0, 'Ac', 0);",
        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    struct store *st = store_open(dir, err, sizeof err);
    CHECK(st != NULL);
    struct store_open_match m;
    memset(&m, 0, sizeof m);
    CHECK_INT(store_each_open_match(st, open_match, &m), 0);
    CHECK_INT(m.id, 3);
    CHECK_INT(m.n_draws, 3);
    CHECK_INT(m.draws[2], 38);
    CHECK_STR(m.secret, "");
    CHECK_STR(m.seats[0].seed, "");
    CHECK_INT(m.n_moves, 1);
    CHECK_STR(m.moves[0].cards, "Ac");
    CHECK_INT(m.moves[0].kind, 0);
    free(m.moves);

    uv_loop_t loop;
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    struct store_op *end = op_new(STORE_OP_END, 3);
    strcpy(end->result, "seat1");
    strcpy(end->reason, "score");
    end->is_teams = false;
    end->points[0] = 80;
    end->points[1] = 40;
    end->log = strdup("");
    struct store_job *j = job_new(STORE_JOB_JOURNAL, NULL);
    j->ops = end;
    struct store_job *stats = job_new(STORE_JOB_STATS, "ann");
    struct store_job *hist = job_new(STORE_JOB_HISTORY, "bo");
    store_submit(st, j);
    store_submit(st, stats);
    store_submit(st, hist);
    run_until(&loop, 3);
    CHECK_INT(hist->n_rows, 1);
    CHECK_STR(hist->history[0].result, "seat1");
    CHECK_INT(hist->history[0].points, 40); /* the side migrated: seat % 2 */
    CHECK_INT(j->rc, STORE_OK);
    CHECK_INT(stats->rc, STORE_OK);
    /* a seat result rates pairwise in the match's game: ann's 80 lost to
     * bo's 40 (schema 4; before, seat results were not rated) */
    CHECK(fabs(stats->stats.rating - 1484.0) < 1e-9);
    CHECK_INT(stats->stats.played, 1);
    CHECK_INT(stats->stats.lost, 1);
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
    store_ops_free(j->ops);
    free(j);
    free(stats);
    free(hist);
}

/* ---------- ratings per game (issue 9 item 5) ---------- */

static struct store_op *game_start(uint64_t id, const char *game, unsigned n,
                                   const char *const names[], const bool reg[])
{
    struct store_op *op = op_new(STORE_OP_START, id);
    snprintf(op->game, sizeof op->game, "%s", game);
    op->n_seats = n;
    for (unsigned i = 0; i < n; i++) {
        snprintf(op->seats[i].name, sizeof op->seats[i].name, "%s", names[i]);
        memset(op->seats[i].token, 'a' + (int)i, STORE_TOKEN_LEN);
        op->seats[i].is_registered = reg[i];
        op->seats[i].side = n == 4 && strcmp(game, "hearts") == 0 ? i : i % 2;
    }
    memset(op->secret, 'f', STORE_SECRET_HEX);
    return op;
}

static struct store_op *game_end(uint64_t id, const char *result, const char *reason,
                                 bool is_teams, int loser, const unsigned pts[4])
{
    struct store_op *op = op_new(STORE_OP_END, id);
    snprintf(op->result, sizeof op->result, "%s", result);
    snprintf(op->reason, sizeof op->reason, "%s", reason);
    op->is_teams = is_teams;
    op->loser = loser;
    memcpy(op->points, pts, sizeof op->points);
    op->log = strdup("");
    return op;
}

static struct store_job *stats_of(struct store *st, const char *name, const char *game)
{
    struct store_job *j = job_new(STORE_JOB_STATS, name);
    snprintf(j->game, sizeof j->game, "%s", game);
    store_submit(st, j);
    return j;
}

TEST(records_are_per_game)
{
    char err[256];
    const char *dir = tmpdir();
    struct store *st = store_open(dir, err, sizeof err);
    uv_loop_t loop;
    CHECK(st != NULL);
    CHECK_INT(uv_loop_init(&loop), 0);
    CHECK_INT(store_start(st, &loop), 0);
    n_done = 0;
    const char *names[] = {"ann", "bo", "cy", "di"};
    struct store_job *reg[4];
    for (unsigned i = 0; i < 4; i++) {
        reg[i] = job_new(STORE_JOB_REGISTER, names[i]);
        strcpy(reg[i]->hash, "$argon2id$fake");
        store_submit(st, reg[i]);
    }
    run_until(&loop, 4);
    const bool all[4] = {true, true, true, true}, ann_only[4] = {true, false};
    /* scopa: ann beats a guest; briscola: ann draws bo */
    struct store_op *a = game_start(1, "scopa", 2, (const char *[]){"ann", "zed"}, ann_only);
    a->next = game_end(1, "team0", "score", true, -1, (const unsigned[4]){11, 4});
    struct store_op *b = game_start(2, "briscola", 2, names, all);
    b->next = game_end(2, "draw", "score", true, -1, (const unsigned[4]){60, 60});
    /* hearts: ann 20, bo 30, cy 20, di 60 (a draw at the lowest); then a
     * forfeit by di, who has the lowest total, won by bo */
    struct store_op *h = game_start(3, "hearts", 4, names, all);
    h->next = game_end(3, "draw", "score", false, -1, (const unsigned[4]){20, 30, 20, 60});
    struct store_op *f = game_start(4, "hearts", 4, names, all);
    f->next = game_end(4, "seat1", "forfeit", false, 3, (const unsigned[4]){9, 5, 7, 0});
    struct store_job *js[4] = {journal(st, a), journal(st, b), journal(st, h),
                               journal(st, f)};
    struct store_job *s_scopa = stats_of(st, "ann", "scopa");
    struct store_job *s_bris = stats_of(st, "ann", "briscola");
    struct store_job *s_bo = stats_of(st, "bo", "scopa");
    struct store_job *s_h[4];
    for (unsigned i = 0; i < 4; i++)
        s_h[i] = stats_of(st, names[i], "hearts");
    struct store_job *top = job_new(STORE_JOB_TOP, NULL);
    strcpy(top->game, "scopa");
    store_submit(st, top);
    struct store_job *top_h = job_new(STORE_JOB_TOP, NULL);
    strcpy(top_h->game, "hearts");
    store_submit(st, top_h);
    run_until(&loop, 4 + 4 + 3 + 4 + 2);
    for (unsigned i = 0; i < 4; i++)
        CHECK_INT(js[i]->rc, STORE_OK);
    CHECK(fabs(s_scopa->stats.rating - 1516.0) < 1e-9);
    CHECK_INT(s_scopa->stats.played, 1);
    CHECK_INT(s_scopa->stats.won, 1);
    CHECK(fabs(s_bris->stats.rating - 1500.0) < 1e-9);
    CHECK_INT(s_bris->stats.played, 1);
    CHECK_INT(s_bris->stats.drawn, 1);
    CHECK_INT(s_bo->rc, STORE_OK); /* registered, never played scopa */
    CHECK(fabs(s_bo->stats.rating - 1500.0) < 1e-9);
    CHECK_INT(s_bo->stats.played, 0);
    /* match 3 from 1500 each: ann +32/3 (beats bo, di; draws cy), bo
     * -16/3 (beats di), cy +32/3, di -16 */
    double r[4] = {1500 + 32.0 / 3, 1500 - 16.0 / 3, 1500 + 32.0 / 3, 1500 - 16};
    double d[4];
    rating_seats(4, r, (const unsigned[]){9, 5, 7, 0}, 3, d);
    for (unsigned i = 0; i < 4; i++)
        CHECK(fabs(s_h[i]->stats.rating - (r[i] + d[i])) < 1e-9);
    /* bo: beats all three, from below */
    CHECK(fabs(d[1] - (rating_delta(r[1], r[0], 1) + rating_delta(r[1], r[2], 1) +
                       rating_delta(r[1], r[3], 1)) / 3) < 1e-9);
    /* counts: 3 a draw (ann, cy share the lowest), 4 won by bo */
    CHECK_INT(s_h[0]->stats.played, 2);
    CHECK_INT(s_h[0]->stats.drawn, 1);
    CHECK_INT(s_h[0]->stats.lost, 1);
    CHECK_INT(s_h[1]->stats.won, 1);
    CHECK_INT(s_h[1]->stats.lost, 1);
    CHECK_INT(s_h[2]->stats.drawn, 1);
    CHECK_INT(s_h[3]->stats.lost, 2);
    CHECK_INT(top->n_rows, 4); /* every registered name, played or not */
    CHECK_STR(top->top[0].name, "ann");
    CHECK(fabs(top->top[0].rating - 1516.0) < 1e-9);
    CHECK_STR(top->top[1].name, "bo");
    CHECK_INT(top_h->n_rows, 4);
    CHECK_STR(top_h->top[3].name, "di");
    store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    FILE *report = tmpfile();
    CHECK_INT(store_check(dir, report), 0);
    fclose(report);
    for (unsigned i = 0; i < 4; i++) {
        free(reg[i]);
        free_job(js[i]);
        free(s_h[i]);
    }
    free(s_scopa);
    free(s_bris);
    free(s_bo);
    free(top);
    free(top_h);
}
