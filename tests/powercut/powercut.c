/*
 * powercut: an LD_PRELOAD shim that keeps, beside a program's files, the
 * image a power cut would leave of them: only what was fsynced.
 *
 *   POWERCUT_DIR=/abs/dir LD_PRELOAD=libpowercut.so program ...
 *
 * Files opened directly in POWERCUT_DIR (not below it; SQLite's -shm is
 * left out, see below) are written as usual, and every write, pwrite,
 * writev, pwritev and ftruncate to them is recorded as a dirty extent of
 * the file (keyed by device and inode, whichever descriptor wrote). At
 * fsync() or fdatasync() of any descriptor of such a file, the file's
 * dirty extents are copied, from the file as it is at that moment, into
 * its shadow, POWERCUT_DIR/../durable/<name>, which is then cut to the
 * file's size. So after the program is killed (kill -9), durable/ holds
 * exactly what fsync made durable, and nothing written since: the worst
 * power cut, where the OS cache wrote back nothing on its own.
 *
 * The model, and what it leaves out:
 * - A write and the snapshot an fsync takes exclude each other (one
 *   mutex), so an extent is copied whole, as of the fsync's call; a
 *   write made after the call is never in that snapshot. The real
 *   fsync runs after the snapshot, outside the mutex.
 * - The first time a file is seen, its content so far (from before the
 *   shim) is taken as durable. Creating and unlinking a file count as
 *   durable at once (directory fsyncs are not modelled).
 * - The -shm file is memory-mapped, and SQLite rebuilds it from the WAL
 *   after a crash: it has no shadow (the image has none).
 * - Torn sector writes and a cache that wrote back some unsynced pages
 *   are not modelled: unsynced is all lost, synced is all kept.
 *
 * Test code, not built into the server (tests/CMakeLists.txt).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FILES 64
#define MAX_FDS 65536

struct extent {
    off_t off, len;
};

struct file {
    bool is_used;
    dev_t dev;
    ino_t ino;
    char name[NAME_MAX + 1];
    int rfd;      /* our own reader of the real file */
    int sfd;      /* the shadow */
    struct extent *ext;
    size_t n_ext, cap_ext;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char dir[PATH_MAX];
static size_t dir_len;
static char shadow_dir[PATH_MAX];
static struct file files[MAX_FILES];
static signed char fd_file[MAX_FDS]; /* index + 1 into files; 0: not ours */

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);

static void init(void)
{
    real_open = dlsym(RTLD_NEXT, "open");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwritev = dlsym(RTLD_NEXT, "pwritev");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
    const char *d = getenv("POWERCUT_DIR");
    if (d == NULL || d[0] != '/' || strlen(d) >= sizeof dir - 16)
        return; /* off: every call passes straight through */
    snprintf(dir, sizeof dir, "%s", d);
    dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/')
        dir[--dir_len] = '\0';
    char *slash = strrchr(dir, '/');
    snprintf(shadow_dir, sizeof shadow_dir, "%.*s/durable",
             (int)(slash - dir), dir);
}

static void die(const char *what)
{
    char msg[256];
    int n = snprintf(msg, sizeof msg, "powercut: %s: %s\n", what, strerror(errno));
    if (n > 0)
        real_write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    abort();
}

/* The name of PATH (absolute) if it is directly in dir and not a -shm,
 * else NULL. The name points into path. */
static const char *our_name(const char *path)
{
    if (dir_len == 0 || path == NULL || path[0] != '/')
        return NULL;
    if (strncmp(path, dir, dir_len) != 0 || path[dir_len] != '/')
        return NULL;
    const char *name = path + dir_len + 1;
    size_t len = strlen(name);
    if (len == 0 || strchr(name, '/') != NULL ||
        (len > 4 && strcmp(name + len - 4, "-shm") == 0))
        return NULL;
    return name;
}

/* PATH relative to dirfd (or the working directory) made absolute. */
static void absolute(int dirfd, const char *path, char *abs, size_t cap)
{
    if (path[0] == '/') {
        snprintf(abs, cap, "%s", path);
        return;
    }
    abs[0] = '\0';
    if (dirfd == AT_FDCWD) {
        if (getcwd(abs, cap) == NULL)
            abs[0] = '\0';
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, abs, cap - 1);
        abs[n > 0 ? n : 0] = '\0';
    }
    size_t len = strlen(abs);
    snprintf(abs + len, cap - len, "/%s", path);
}

static void copy_range(int from, int to, off_t off, off_t len)
{
    char buf[65536];
    while (len > 0) {
        size_t want = len < (off_t)sizeof buf ? (size_t)len : sizeof buf;
        ssize_t n = pread(from, buf, want, off);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            die("pread");
        if (n == 0)
            return; /* past the end: the shadow is cut to size after */
        for (ssize_t done = 0; done < n;) {
            ssize_t w = real_pwrite(to, buf + done, (size_t)(n - done), off + done);
            if (w == -1 && errno == EINTR)
                continue;
            if (w == -1)
                die("pwrite to the shadow");
            done += w;
        }
        off += n;
        len -= n;
    }
}

/* Under mu. The file behind fd (which we just opened as NAME). */
static void register_fd(int fd, const char *name)
{
    struct stat sb;
    if (fd < 0 || fd >= MAX_FDS || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return;
    int free_i = -1;
    for (int i = 0; i < MAX_FILES; i++) {
        if (files[i].is_used && files[i].dev == sb.st_dev && files[i].ino == sb.st_ino) {
            fd_file[fd] = (signed char)(i + 1);
            return;
        }
        if (!files[i].is_used && free_i < 0)
            free_i = i;
    }
    if (free_i < 0) {
        errno = EMFILE;
        die("too many files");
    }
    struct file *f = &files[free_i];
    memset(f, 0, sizeof *f);
    f->is_used = true;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    snprintf(f->name, sizeof f->name, "%s", name);
    char p[PATH_MAX + NAME_MAX + 2];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    f->rfd = real_open(p, O_RDONLY | O_CLOEXEC);
    if (f->rfd == -1)
        die("reopen");
    mkdir(shadow_dir, 0700); /* best effort: EEXIST */
    snprintf(p, sizeof p, "%s/%s", shadow_dir, name);
    struct stat ss;
    bool is_new = stat(p, &ss) != 0;
    f->sfd = real_open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f->sfd == -1)
        die("open the shadow");
    if (is_new) /* what was there before we looked counts as durable */
        copy_range(f->rfd, f->sfd, 0, sb.st_size);
    fd_file[fd] = (signed char)(free_i + 1);
}

static struct file *file_of(int fd)
{
    if (fd < 0 || fd >= MAX_FDS || fd_file[fd] == 0)
        return NULL;
    return &files[fd_file[fd] - 1];
}

static void add_extent(struct file *f, off_t off, off_t len)
{
    if (len <= 0)
        return;
    if (f->n_ext > 0) {
        struct extent *last = &f->ext[f->n_ext - 1];
        if (off >= last->off && off <= last->off + last->len) {
            if (off + len > last->off + last->len)
                last->len = off + len - last->off;
            return;
        }
    }
    if (f->n_ext == f->cap_ext) {
        f->cap_ext = f->cap_ext ? f->cap_ext * 2 : 64;
        f->ext = realloc(f->ext, f->cap_ext * sizeof *f->ext);
        if (f->ext == NULL)
            die("realloc");
    }
    f->ext[f->n_ext++] = (struct extent){off, len};
}

/* Under mu: what fsync makes durable, as of now. */
static void make_durable(struct file *f)
{
    struct stat real, shadow;
    if (fstat(f->rfd, &real) != 0 || fstat(f->sfd, &shadow) != 0)
        die("fstat");
    for (size_t i = 0; i < f->n_ext; i++)
        copy_range(f->rfd, f->sfd, f->ext[i].off, f->ext[i].len);
    if (real.st_size > shadow.st_size) /* holes read as zeros */
        copy_range(f->rfd, f->sfd, shadow.st_size, real.st_size - shadow.st_size);
    if (real_ftruncate(f->sfd, real.st_size) != 0)
        die("ftruncate the shadow");
    f->n_ext = 0;
}

/* ---------- the interposed calls ---------- */

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
    pthread_once(&once, init);
    const char *name = NULL;
    char abs[PATH_MAX];
    if (dir_len > 0 && path != NULL) {
        absolute(dirfd, path, abs, sizeof abs);
        name = our_name(abs);
    }
    if (name == NULL)
        return dirfd == AT_FDCWD ? real_open(path, flags, mode)
                                 : real_openat(dirfd, path, flags, mode);
    pthread_mutex_lock(&mu);
    int fd = dirfd == AT_FDCWD ? real_open(path, flags, mode)
                               : real_openat(dirfd, path, flags, mode);
    int e = errno;
    if (fd >= 0)
        register_fd(fd, name);
    pthread_mutex_unlock(&mu);
    errno = e;
    return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
           ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_open(dirfd, path, flags, mode);
}

int close(int fd)
{
    pthread_once(&once, init);
    if (fd >= 0 && fd < MAX_FDS && fd_file[fd] != 0) {
        pthread_mutex_lock(&mu);
        fd_file[fd] = 0; /* the file's dirty extents stay: still unsynced */
        int rc = real_close(fd);
        pthread_mutex_unlock(&mu);
        return rc;
    }
    return real_close(fd);
}

/* Under mu for our files: the write and its record are one step. */
#define WRITE_CALL(fd, off_expr, call)                                        \
    do {                                                                      \
        pthread_once(&once, init);                                            \
        if (file_of(fd) == NULL)                                              \
            return call;                                                      \
        pthread_mutex_lock(&mu);                                              \
        struct file *f = file_of(fd);                                         \
        off_t off = (off_expr);                                               \
        ssize_t n = call;                                                     \
        int e = errno;                                                        \
        if (f != NULL && n > 0)                                               \
            add_extent(f, off, n);                                            \
        pthread_mutex_unlock(&mu);                                            \
        errno = e;                                                            \
        return n;                                                             \
    } while (0)

ssize_t write(int fd, const void *buf, size_t len)
{
    WRITE_CALL(fd, lseek(fd, 0, SEEK_CUR), real_write(fd, buf, len));
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off0)
{
    WRITE_CALL(fd, off0, real_pwrite(fd, buf, len, off0));
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off0)
{
    WRITE_CALL(fd, off0, real_pwrite64(fd, buf, len, off0));
}

ssize_t writev(int fd, const struct iovec *iov, int n_iov)
{
    WRITE_CALL(fd, lseek(fd, 0, SEEK_CUR), real_writev(fd, iov, n_iov));
}

ssize_t pwritev(int fd, const struct iovec *iov, int n_iov, off_t off0)
{
    WRITE_CALL(fd, off0, real_pwritev(fd, iov, n_iov, off0));
}

static int do_ftruncate(int fd, off_t len)
{
    pthread_once(&once, init);
    if (file_of(fd) == NULL)
        return real_ftruncate(fd, len);
    pthread_mutex_lock(&mu);
    struct file *f = file_of(fd);
    struct stat sb;
    off_t old = fstat(fd, &sb) == 0 ? sb.st_size : 0;
    int rc = real_ftruncate(fd, len);
    int e = errno;
    if (f != NULL && rc == 0 && len < old)
        add_extent(f, len, old - len); /* reads back as zeros if regrown */
    pthread_mutex_unlock(&mu);
    errno = e;
    return rc;
}

int ftruncate(int fd, off_t len)
{
    return do_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
    return do_ftruncate(fd, len);
}

static int do_sync(int fd, int (*real)(int))
{
    pthread_once(&once, init);
    if (file_of(fd) != NULL) {
        pthread_mutex_lock(&mu);
        struct file *f = file_of(fd);
        if (f != NULL)
            make_durable(f);
        pthread_mutex_unlock(&mu);
    }
    return real(fd);
}

int fsync(int fd)
{
    return do_sync(fd, real_fsync);
}

int fdatasync(int fd)
{
    return do_sync(fd, real_fdatasync);
}

int unlink(const char *path)
{
    pthread_once(&once, init);
    char abs[PATH_MAX];
    const char *name = NULL;
    if (dir_len > 0) {
        absolute(AT_FDCWD, path, abs, sizeof abs);
        name = our_name(abs);
    }
    if (name == NULL)
        return real_unlink(path);
    pthread_mutex_lock(&mu);
    int rc = real_unlink(path);
    int e = errno;
    if (rc == 0) {
        for (int i = 0; i < MAX_FILES; i++) {
            if (files[i].is_used && strcmp(files[i].name, name) == 0) {
                real_close(files[i].rfd);
                real_close(files[i].sfd);
                free(files[i].ext);
                files[i].is_used = false;
                for (int fd = 0; fd < MAX_FDS; fd++)
                    if (fd_file[fd] == i + 1)
                        fd_file[fd] = 0;
            }
        }
        char p[PATH_MAX + NAME_MAX + 2];
        snprintf(p, sizeof p, "%s/%s", shadow_dir, name);
        real_unlink(p); /* best effort: a file we never saw has none */
    }
    pthread_mutex_unlock(&mu);
    errno = e;
    return rc;
}
