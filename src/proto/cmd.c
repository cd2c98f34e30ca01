/*
 * cmd: see cmd.h.
 */
#include "proto/cmd.h"


bool cmd_parse(const char *line, size_t len, struct cmd *out)
{
    size_t i = 0, n_words = 0;

    /* Only the counted fields: clearing args[] for every line costs more
     * than the rest of the parse (docs/PERFORMANCE.md). */
    out->n_args = 0;
    out->verb.s = out->rest.s = line;
    out->verb.len = out->rest.len = 0;
    while (len > 0 && line[len - 1] == ' ')
        len--;
    for (;;) {
        while (i < len && line[i] == ' ')
            i++;
        if (i >= len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        struct cmd_word w = {line + start, i - start};
        if (n_words == 0) {
            out->verb = w;
            size_t r = i;
            while (r < len && line[r] == ' ')
                r++;
            out->rest.s = line + r;
            out->rest.len = len - r;
        } else {
            if (out->n_args < CMD_MAX_ARGS)
                out->args[out->n_args] = w;
            out->n_args++;
        }
        n_words++;
    }
    return n_words > 0;
}

bool cmd_word_is(struct cmd_word w, const char *upper)
{
    size_t i;

    for (i = 0; i < w.len; i++) {
        unsigned char c = (unsigned char)w.s[i];
        if (c >= 'a' && c <= 'z')
            c &= 0xDF; /* ASCII: lower to upper case */
        /* A word never holds a NUL (line_check refuses control characters),
         * so this also stops at the end of a shorter name. */
        if (c != (unsigned char)upper[i])
            return false;
    }
    return upper[i] == '\0';
}

size_t cmd_rest_single_spaced(const struct cmd *c, char *out)
{
    size_t n = 0;
    const char *s = c->rest.s;

    for (size_t i = 0; i < c->rest.len; i++) {
        if (s[i] == ' ' && n > 0 && out[n - 1] == ' ')
            continue;
        out[n++] = s[i];
    }
    return n;
}
