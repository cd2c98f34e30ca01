/*
 * gameload.h - what the load generator's network loop (gameload.c), its
 * client-side game checker (view.c) and its server probe (probe.c) share.
 *
 * A card is an index 0..51: suit * 13 + rank, suits "cdhs", ranks
 * "A23456789TJQK" (PROTOCOL §7). A set of cards is a 64-bit mask, so a
 * whole deck, a hand, a table or the cards already played is one word.
 *
 * struct view is one player's view of one match: its own hand, the public
 * events, and what they allow it to conclude (the cards already seen, the
 * cards a seat cannot hold). view_event() checks one event line against
 * the rules of PROTOCOL §7 and §12 and says what the player must do next;
 * view_move() picks a legal move. Neither does I/O, keeps a clock or
 * allocates: the loop owns the sockets, the timers and the metrics.
 */
#ifndef GAMELOAD_H
#define GAMELOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum game { G_BRISCOLA = 0, G_SCOPA, G_HEARTS, G_COUNT };

#define MAX_SEATS 4
#define NO_CARD (-1)

/* What the player owes the server after an event. */
enum need {
    NEED_NOTHING = 0,
    NEED_PLAY, /* a TURN for this seat: send view_move()'s PLAY */
    NEED_PASS, /* hearts PASSING: send view_move()'s PASS */
    NEED_OVER  /* END checked: the match is over for this player */
};

struct view {
    int game, n_seats, me, version;
    int hand_no;   /* DEAL's n; 1 in briscola */
    uint64_t hand; /* my cards */
    uint64_t gone; /* seen face up this hand (played, table, taken) */
    uint64_t cannot[MAX_SEATS]; /* cards a seat cannot hold (hearts voids) */
    int turn;                   /* the seat that must play next; -1 unknown */
    int turn_open;              /* the seat whose TURN came, until its PLAYED */
    int trick[MAX_SEATS], n_trick, leader, n_tricks;
    int hand_size[MAX_SEATS];
    int points[MAX_SEATS]; /* this hand's points per seat (briscola, hearts) */
    int totals[MAX_SEATS]; /* match totals per seat (scopa, hearts) */
    int has_hand;          /* the first HAND of the hand arrived */
    int want_trick;        /* every seat played: TRICK must come next */
    int want_draw;         /* briscola: my DRAW is due */
    int want_hand;         /* scopa: a new deal is due before the next TURN */
    int want_score;        /* the hand's cards are all played: SCORE due */
    int over_due;          /* the score says END, not DEAL, comes next */
    int scored;            /* SCORE of this hand seen */
    /* briscola */
    int trump, trump_holder, deck_left;
    /* scopa */
    uint64_t table, taken[2];
    int sweeps[2], last_capturer;
    int pend_seat, pend_card, pend_could_take, pend_took, pend_laid;
    int pend_sweep_due, pend_last, pend_leftover;
    uint64_t pend_before;
    /* hearts */
    int broken, pass_due, passed, got_received;
    uint64_t pass_cards, hand_before_pass, received;
    /* my last PLAY, as sent */
    int sent_card;
    uint64_t sent_takes;
};

/* A game and seat count to play, from --game. */
struct spec {
    int game, seats;
};

/*
 * probe.c. probe() connects once (blocking, 5 s timeouts), checks that
 * OK GAMES lists every spec and, with quick, that QUICK is known (then
 * LEAVEs the queue); it prints why and exits 2 when not. read_rss_kb()
 * and read_cpu_ticks() return the process's VmRSS in KiB and its
 * utime + stime in clock ticks, or -1 when /proc cannot tell.
 */
void probe(const struct sockaddr_storage *addr, socklen_t addr_len,
           const char *host, int port, const struct spec *specs, int n_specs,
           int quick, const char *tag);
long read_rss_kb(int pid);
long long read_cpu_ticks(int pid);

/* Card helpers. card_parse returns the index, or NO_CARD for a word that
 * is not a card code. card_text writes 2 characters and a NUL. */
int card_parse(const char *w);
void card_text(int c, char out[3]);
int game_parse(const char *name);
const char *game_name(int g);
int game_deck_size(int g);

/* Starts a view for seat `me` of an n-seat match of game g (START). */
void view_start(struct view *v, int game, int n_seats, int me, int version);

/*
 * Checks one event line, split into words (w[0] the verb, w[1] the match
 * id, which the caller has already matched). Returns NEED_* on success,
 * or -1 with a one-line reason in err (err_kind gets a short stable name
 * such as "dup_card" for the summary).
 */
int view_event(struct view *v, char **w, int n_words, char *err, size_t err_cap,
               const char **err_kind);

/*
 * Writes the command for what view_event() asked (NEED_PLAY: "PLAY ..";
 * NEED_PASS: "PASS .."), without the line end, into out. rng is a
 * xorshift state. Returns its length, or -1 when the view has no legal
 * move (a bug: the checks should have failed first).
 */
int view_move(struct view *v, int need, uint64_t *rng, char *out, size_t cap);

/* What the view is waiting for, for a stall report ("TURN after PLAYED"). */
const char *view_waiting(const struct view *v);

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#endif
