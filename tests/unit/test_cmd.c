/* Unit tests for proto/cmd: the tokenizer. */
#include "check.h"
#include "proto/cmd.h"

TEST(blank_lines)
{
    struct cmd c;
    CHECK(!cmd_parse("", 0, &c));
    CHECK(!cmd_parse("    ", 4, &c));
}

TEST(words_and_rest)
{
    struct cmd c;
    const char *l = "  create   briscola  4  ";
    CHECK(cmd_parse(l, strlen(l), &c));
    CHECK_MEM(c.verb.s, c.verb.len, "create");
    CHECK(cmd_word_is(c.verb, "CREATE"));
    CHECK(!cmd_word_is(c.verb, "CREAT"));
    CHECK(!cmd_word_is(c.verb, "CREATES"));
    CHECK_INT(c.n_args, 2);
    CHECK_MEM(c.args[0].s, c.args[0].len, "briscola");
    CHECK_MEM(c.args[1].s, c.args[1].len, "4");
    CHECK_MEM(c.rest.s, c.rest.len, "briscola  4");
}

TEST(verb_case_insensitive_args_not)
{
    struct cmd c;
    CHECK(cmd_parse("PiNg As", 7, &c));
    CHECK(cmd_word_is(c.verb, "PING"));
    CHECK_MEM(c.args[0].s, c.args[0].len, "As");
}

TEST(single_spaced_rest)
{
    struct cmd c;
    char out[64];
    const char *l = "PING a  b   c";
    CHECK(cmd_parse(l, strlen(l), &c));
    size_t n = cmd_rest_single_spaced(&c, out);
    CHECK_MEM(out, n, "a b c");
    CHECK(cmd_parse("PING", 4, &c));
    CHECK_INT(c.rest.len, 0);
}

TEST(many_args_counted_beyond_storage)
{
    struct cmd c;
    const char *l = "SAY 1 2 3 4 5 6 7 8 9 10 11";
    CHECK(cmd_parse(l, strlen(l), &c));
    CHECK_INT(c.n_args, 11);
    CHECK_MEM(c.args[CMD_MAX_ARGS - 1].s, c.args[CMD_MAX_ARGS - 1].len, "8");
    CHECK_MEM(c.rest.s, c.rest.len, "1 2 3 4 5 6 7 8 9 10 11");
}
