/*
 * cmd: splits a validated line into a verb and its arguments.
 *
 * Words are separated by one or more spaces; leading and trailing spaces
 * are ignored (PROTOCOL §1, §9). Pure and allocation-free: every word is a
 * view into the line, valid as long as the line is.
 */
#ifndef TAVOLO_PROTO_CMD_H
#define TAVOLO_PROTO_CMD_H

#include <stdbool.h>
#include <stddef.h>

#define CMD_MAX_ARGS 8

struct cmd_word {
    const char *s;
    size_t len;
};

struct cmd {
    struct cmd_word verb;
    /* The first CMD_MAX_ARGS arguments; n_args counts all of them. */
    struct cmd_word args[CMD_MAX_ARGS];
    size_t n_args;
    /* Everything after the verb, without leading or trailing spaces. */
    struct cmd_word rest;
};

/* Returns false for a blank line (empty or spaces only), which gets no
 * reply; otherwise fills *out and returns true. */
bool cmd_parse(const char *line, size_t len, struct cmd *out);

/* Case-insensitive comparison of a word with an upper-case ASCII name. */
bool cmd_word_is(struct cmd_word w, const char *upper);

/* Writes the rest of the command with runs of spaces collapsed to one
 * (PROTOCOL §9: "PING a  b" -> "a b") into out, which must hold at least
 * rest.len bytes. Returns the length written (no NUL is added). */
size_t cmd_rest_single_spaced(const struct cmd *c, char *out);

#endif
