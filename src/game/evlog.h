/*
 * evlog: a match's event log (the record written at END, lobby.h
 * LOBBY_J_END), kept compact while the match is played and turned back
 * into its text only when the record is written.
 *
 * The text is one line per event, a private one prefixed "@<seat> ". In
 * memory each line is an entry: a header byte, a length (a varint: one
 * byte under 128) and the payload. An event line of the match's own
 * form, "<VERB> <match id>[ <rest>]" with VERB one of a fixed table,
 * keeps only <rest> (header: the verb's index); any other line is kept
 * whole (index 0). The header's top three bits are the seat + 1 of a
 * private line (0: public). So "PLAYED 1234 0 3b" (16 bytes and a LF)
 * is 6 bytes, and a briscola match's ~3 KB of lines ~1.1 KB
 * (docs/PERFORMANCE.md, "Third round"). evlog_text gives back exactly
 * the text the lines make, byte for byte.
 *
 * Pure: no I/O; memory through base/mem (aborts on exhaustion).
 */
#ifndef TAVOLO_GAME_EVLOG_H
#define TAVOLO_GAME_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVLOG_MAX_SEAT 6 /* seats 0..6 fit the header's three bits */

struct evlog {
    uint8_t *buf; /* owned; NULL while empty */
    uint32_t len, cap;
    uint32_t text_len; /* evlog_text's length: one pass to make it */
};

/* Appends one line (len bytes, no LF; it must hold none) of the match
 * whose decimal id is id_key; seat >= 0 (at most EVLOG_MAX_SEAT) marks a
 * private line, -1 a public one. */
void evlog_add(struct evlog *e, const char *id_key, int seat,
               const char *line, size_t len);

/* The whole text: every line followed by LF, private ones with their
 * "@<seat> " prefix, NUL-terminated; "" for an empty log. The caller
 * owns (free) the result; *len_out (if not NULL) gets its length. */
char *evlog_text(const struct evlog *e, const char *id_key, size_t *len_out);

/* Removes the last line if it is public and equals line (len bytes, no
 * LF). Returns true if it did. */
bool evlog_drop_last(struct evlog *e, const char *id_key, const char *line,
                     size_t len);

/* Bytes held (for tests and the docs' figures). */
static inline size_t evlog_bytes(const struct evlog *e) { return e->cap; }

void evlog_free(struct evlog *e);

#endif
