/*
 * fuzz_ban: the blacklist file parser, then lookups of addresses taken
 * from the input, checked against the set's own promise (a lookup of a
 * parsed single address must hit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/ban.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n_entries = 0, bad_line = 0;
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    struct ban_set *set = ban_parse(text, size, &n_entries, &bad_line);

    if (set != NULL) {
        /* every 16-byte window of the input is also an address to look up */
        for (size_t i = 0; i + 16 <= size; i += 16) {
            struct net_addr a;
            memcpy(a.b, data + i, 16);
            ban_match(set, &a);
        }
        /* an entry without a prefix must match itself */
        char line[64];
        const char *nl = memchr(text, '\n', size);
        size_t len = nl ? (size_t)(nl - text) : size;
        if (len > 0 && len < sizeof line) {
            memcpy(line, text, len);
            line[len] = '\0';
            struct net_addr a;
            bool is_v4;
            if (net_addr_parse(line, &a, &is_v4) == 0 && !ban_match(set, &a))
                abort();
        }
        ban_free(set);
    }
    free(text);
    return 0;
}
