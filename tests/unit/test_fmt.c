/* Unit tests for base/fmt: every line as vsnprintf makes it, cut the same. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "check.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define SAME(cap, ...)                                                        \
    do {                                                                      \
        char x_[cap], y_[cap];                                                \
        int k_ = fmt_line(x_, sizeof x_, __VA_ARGS__);                        \
        int j_ = snprintf(y_, sizeof y_, __VA_ARGS__);                        \
        CHECK_STR(x_, y_);                                                    \
        CHECK_INT(k_, j_ < (int)sizeof y_ ? j_ : (int)sizeof y_ - 1);         \
    } while (0)

TEST(protocol_lines)
{
    SAME(1024, "PLAYED %" PRIu64 " %u %s", (uint64_t)18446744073709551615u, 3u, "As");
    SAME(1024, "TURN %" PRIu64 " %u %u", (uint64_t)0, 0u, 30000u);
    SAME(1024, "CHAT %" PRIu64 " %s %.*s", (uint64_t)7, "bob", 5, "hello world");
    SAME(1024, "%s", "");
    SAME(1024, "100%% %c%c", 'o', 'k');
    SAME(1024, "%d %d %i %ld %lld", 0, -2147483647 - 1, 42, -5L, -9223372036854775807LL - 1);
    SAME(1024, "%zu %lu %llu %hu", (size_t)12345, 0UL, 18446744073709551615ULL, 7);
    SAME(1024, "%.*s|", 0, "x");
    SAME(1024, "%.*s|", 3, "ab");
}

TEST(cut_like_vsnprintf)
{
    SAME(1, "anything %s", "at all");
    SAME(5, "PLAYED %u", 123456u);
    SAME(8, "%s%s", "abcd", "efghij");
    SAME(6, "%" PRIu64, (uint64_t)1234567);
}

TEST(falls_back_for_the_rest)
{
    SAME(64, "%02x%08.3f %5s|%-4u|%p", 10u, 3.14159, "ab", 7u, (void *)0);
    SAME(64, "%x %X %o", 255u, 255u, 8u);
    SAME(64, "%+d % d", 5, 5);
}

TEST(u64_digits)
{
    char b[24];
    *fmt_u64(b, 0) = '\0';
    CHECK_STR(b, "0");
    *fmt_u64(b, 18446744073709551615ULL) = '\0';
    CHECK_STR(b, "18446744073709551615");
}

