/*
 * check: a minimal unit-test runner. Each TEST runs in its own forked
 * process under an alarm, so one crash or hang fails one test, not the
 * file; assertions print both sides. Output ends with the line
 * "N passed, M failed", and the exit status is non-zero on any failure.
 */
#ifndef TAVOLO_TEST_CHECK_H
#define TAVOLO_TEST_CHECK_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*test_fn)(void);

struct test_case {
    const char *name;
    test_fn fn;
};

#define MAX_TESTS 256
static struct test_case tests_[MAX_TESTS];
static int n_tests_;

#define TEST(fn_)                                                             \
    static void fn_(void);                                                    \
    __attribute__((constructor)) static void reg_##fn_(void)                  \
    {                                                                         \
        tests_[n_tests_].name = #fn_;                                         \
        tests_[n_tests_++].fn = fn_;                                          \
    }                                                                         \
    static void fn_(void)

#define FAIL_(...)                                                            \
    do {                                                                      \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                         \
        fprintf(stderr, "\n");                                                \
        exit(1);                                                              \
    } while (0)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond))                                                          \
            FAIL_("check failed: %s", #cond);                                 \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_)                                                         \
            FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                  \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (strcmp(a_, b_) != 0)                                              \
            FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);              \
    } while (0)

#define CHECK_MEM(a, alen, b)                                                 \
    do {                                                                      \
        size_t al_ = (alen), bl_ = strlen(b);                                 \
        if (al_ != bl_ || memcmp((a), (b), al_) != 0)                         \
            FAIL_("%s == %s: \"%.*s\" != \"%s\"", #a, #b, (int)al_, (a), (b)); \
    } while (0)

/* The end of a readable page followed by an unreadable one: an input
 * placed right before it makes any over-read crash instead of passing. */
static inline char *guard_page_end(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + page, (size_t)page, PROT_NONE) != 0)
        FAIL_("cannot map a guard page");
    return p + page;
}

int main(int argc, char **argv)
{
    int failed = 0, run = 0;

    for (int i = 0; i < n_tests_; i++) {
        if (argc > 1 && strcmp(argv[1], tests_[i].name) != 0)
            continue;
        run++;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            /* CHECK_ALARM_S: seconds per test (default 60; 0: none, for
             * `make soak`'s long runs). */
            const char *al = getenv("CHECK_ALARM_S");
            alarm(al != NULL ? (unsigned)strtoul(al, NULL, 10) : 60u);
            tests_[i].fn();
            exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok) {
            failed++;
            if (WIFSIGNALED(status))
                printf("FAIL %s (signal %d)\n", tests_[i].name, WTERMSIG(status));
            else
                printf("FAIL %s\n", tests_[i].name);
        } else {
            printf("ok   %s\n", tests_[i].name);
        }
    }
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed || run == 0 ? 1 : 0;
}

#endif
