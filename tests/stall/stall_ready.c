/*
 * stall_ready: an LD_PRELOAD shim for the upgrade tests. In the process
 * it is preloaded into, the first upgrade READY message (app/upgrade_wire.h:
 * "TVUP", version, type 6) sent with sendmsg waits STALL_READY_MS (default
 * 5000) before it goes: a new binary that hangs after the old one has
 * handed everything over (the old process must give up and serve on).
 *
 *   STALL_READY_MS=5000 LD_PRELOAD=libstall_ready.so tavolo_next ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
    static ssize_t (*real)(int, const struct msghdr *, int);
    static int is_done;

    if (real == NULL)
        real = (ssize_t (*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT,
                                                                   "sendmsg");
    if (!is_done && mh != NULL && mh->msg_iovlen >= 1 &&
        mh->msg_iov[0].iov_len >= 12 &&
        memcmp(mh->msg_iov[0].iov_base, "TVUP", 4) == 0 &&
        ((const unsigned char *)mh->msg_iov[0].iov_base)[6] == 6) {
        const char *env = getenv("STALL_READY_MS");
        long ms = env ? atol(env) : 5000;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        is_done = 1;
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    return real(fd, mh, flags);
}
