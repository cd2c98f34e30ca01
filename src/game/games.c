/*
 * games: the registry of games (see rules.h). One line per game.
 */
#include <string.h>

#include "game/rules.h"

extern const struct rules briscola_rules;
extern const struct rules scopa_rules;
extern const struct rules hearts_rules;

const struct rules *const rules_registry[] = {
    &briscola_rules,
    &scopa_rules,
    &hearts_rules,
    NULL,
};

const struct rules *rules_find(const char *name, size_t len)
{
    for (size_t i = 0; rules_registry[i] != NULL; i++) {
        const char *n = rules_registry[i]->name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return rules_registry[i];
    }
    return NULL;
}

bool rules_has_seats(const struct rules *r, unsigned n)
{
    for (size_t i = 0; i < RULES_MAX_SEATS && r->seat_counts[i] != 0; i++)
        if (r->seat_counts[i] == n)
            return true;
    return false;
}
