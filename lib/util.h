/* Shared plumbing for every retain program: exit codes, the one error style,
 * checked allocation and I/O with fault injection, atomic output files. */
#ifndef RETAIN_UTIL_H
#define RETAIN_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef RETAIN_VERSION
#define RETAIN_VERSION "0.0.0"
#endif

/* Exit status, the same in every program and man page. */
enum rtn_exit {
	RTN_EXIT_OK = 0,      /* success */
	RTN_EXIT_CHECK = 1,   /* finished, but rejects exceeded or a check failed */
	RTN_EXIT_USAGE = 2,   /* usage error or unreadable input */
	RTN_EXIT_CORRUPT = 3, /* corrupt, truncated or unsupported input stream */
	RTN_EXIT_SYSTEM = 4   /* output or other system error (incl. out of memory) */
};

/* Program name for messages; set once by rtn_init(argv[0]). */
extern const char *rtn_progname;

/* Sets the program name, installs SIGINT/SIGTERM/SIGHUP (and SIGPIPE, unless
 * ignored) handlers that remove registered temporary files and then die of
 * the signal, and reads RETAIN_FAIL (fault injection). */
void rtn_init(const char *argv0);

/* "prog: message\n" on stderr (stdout flushed first). */
void rtn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, then removes temporary files and exits with code. */
_Noreturn void rtn_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rtn_vwarn(const char *fmt, va_list ap);

/* Checked allocation: on failure prints "out of memory" and exits 4.
 * Every call counts toward RETAIN_FAIL=alloc:N. Blocks of 2 MiB and more
 * from xmalloc and xcalloc are 2 MiB aligned with huge pages asked for (big
 * tables read at random miss the TLB on almost every lookup with 4 KiB
 * pages); free them with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows *buf (capacity *cap) to hold at least need bytes, doubling. */
void xgrow(void **buf, size_t *cap, size_t need, size_t elem);
/* A big array that grows in place: *p holds *cap bytes (NULL, 0 at first);
 * makes it hold at least need, doubling, new bytes zeroed. From 2 MiB up it
 * is a private mapping with huge pages asked for, grown by mremap: the pages
 * move as they are, where realloc would copy them into fresh memory (a page
 * fault each 4 KiB, then the copy). Free with rtn_big_free(*p, *cap). */
void rtn_big_grow(void **p, size_t *cap, size_t need);
/* The same with 4 KiB pages, for big arrays filled in order or touched
 * rarely: they gain little from huge pages, and fresh huge pages can cost
 * several times more to fault in (on the benchmark's virtual machine, 0.3
 * to 0.6 s against 0.08 to 0.1 s for 190 MB, at times). */
void rtn_big_grow_small(void **p, size_t *cap, size_t need);
void rtn_big_free(void *p, size_t cap);
/* Faults in bytes [from, from + len) of a big array (p, cap) at once, the
 * part past cap left out: arrays filled in order call it a few MiB ahead,
 * so that the loop filling them does not take a page fault every 4 KiB
 * (one call maps the pages in a batch, cheaper on a virtual machine). A
 * hint: nothing happens where the system cannot (MADV_POPULATE_WRITE,
 * Linux 5.14). */
void rtn_big_prefault(void *p, size_t cap, size_t from, size_t len);
/* LSD radix sort of key[0..n-1], 16 bits a pass (a pass whose digit is the
 * same for every key is skipped); stable; idx (or NULL) moves alongside. */
void rtn_radix_sort_u64(uint64_t *key, uint32_t *idx, size_t n);
/* Same, with scratch space from the caller (n keys, and n indexes when idx
 * is given; NULL: allocated here). */
void rtn_radix_sort_u64_buf(uint64_t *key, uint32_t *idx, size_t n, uint64_t *kbuf, uint32_t *ibuf);
/* RETAIN_THREADS from the environment: 0 when unset (the program's
 * default), else the number asked for. */
int rtn_threads_env(void);
/* 1 when a second thread may run: two or more processors, and
 * RETAIN_THREADS is not 1. */
int rtn_threads_allowed(void);
/* Starts a thread (pthread_create's result) with the signals that end the
 * program blocked, so that they reach the main thread, and a stack of
 * stack bytes (0: the default; the workers that deflate and inflate blocks
 * take 256 KiB, for programs run under tight address-space limits). */
int rtn_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, size_t stack);

/* When fd is a pipe, asks for a 1 MiB pipe buffer (Linux; a hint), so that
 * the programs of a pipeline hand over blocks with fewer context switches. */
void rtn_pipe_grow(int fd);

/* Fault injection (tests only): RETAIN_FAIL="KIND:N[,KIND:N...]" makes the
 * Nth call of KIND fail, KIND one of alloc, write, fsync, rename, close.
 * rtn_fault("write") returns 1 when this call must fail (and sets errno). */
int rtn_fault(const char *kind);

/* fwrite that honours fault injection; returns 0 on success, -1 on error
 * (errno set). */
int rtn_fwrite(const void *p, size_t n, FILE *f);
/* Flushes and checks stdout at exit: call as the last thing in main.
 * Returns RTN_EXIT_SYSTEM with a message when writing failed. */
int rtn_close_stdout(void);

/* Output file, all or nothing. rtn_out_open("-" or NULL) is stdout. For a
 * path, writes NAME's temporary sibling ".NAME.XXXXXX", holds an exclusive
 * lock ".NAME.lock" (a second writer of the same NAME is refused), and on
 * rtn_out_commit flushes, fsyncs, closes and renames into place. On error,
 * rtn_die or a signal, the temporary file is removed and NAME is untouched.
 * An existing NAME that is not a regular file (/dev/null, a FIFO) is
 * written in place, never replaced. */
typedef struct rtn_out rtn_out;
rtn_out *rtn_out_open(const char *path, int mode);  /* mode e.g. 0644; dies on error */
FILE *rtn_out_file(rtn_out *o);
const char *rtn_out_name(const rtn_out *o);         /* "standard output" or path */
int rtn_out_is_stdout(const rtn_out *o);
int rtn_out_commit(rtn_out *o);                     /* 0 or dies with exit 4 */
void rtn_out_abort(rtn_out *o);

/* Registers a temporary file (e.g. a sort spill file) to be removed by
 * rtn_die and on SIGINT/SIGTERM/SIGHUP. path must stay valid (not freed)
 * until rtn_temp_forget(path), which matches by pointer; the caller unlinks
 * the file itself on success. At most 256 files (outputs included). */
void rtn_temp_register(char *path);
void rtn_temp_forget(const char *path);

/* Opens an input: "-" or NULL is stdin. Dies with exit 2 and a message
 * ("cannot open", "is a directory") on failure. */
FILE *rtn_in_open(const char *path);
const char *rtn_in_name(const char *path);          /* "standard input" or path */

/* Parses a non-negative integer within [lo, hi]; dies with exit 2 naming opt. */
long long rtn_parse_ll(const char *opt, const char *s, long long lo, long long hi);
/* Parses a size like 64M, 1G, 512k (bytes). Dies with exit 2 naming opt. */
size_t rtn_parse_size(const char *opt, const char *s);

/* Provenance line for the stream header: "prog VERSION arg arg ..." with
 * arguments quoted where needed. Caller frees. */
char *rtn_cmdline(int argc, char **argv);

/* 64-bit hash of a customer id (documented in retain-stream(5)): 8-byte
 * words multiplied and rotated, then the splitmix64 finaliser.
 * Shard = hash % n. */
uint64_t rtn_hash64(const void *p, size_t n);

/* Progress line on stderr: enabled by --progress or stderr being a terminal
 * (when auto is set). Updated at most a few times a second. */
typedef struct rtn_progress {
	int on;
	const char *phase;
	uint64_t total_bytes; /* 0 when unknown */
	double start, last;
} rtn_progress;
void rtn_progress_init(rtn_progress *p, int asked, int autodetect, uint64_t total_bytes);
void rtn_progress_update(rtn_progress *p, const char *phase, uint64_t bytes, uint64_t rows);
void rtn_progress_done(rtn_progress *p, uint64_t bytes, uint64_t rows);
double rtn_now(void);

/* a[0..n) == b[0..n), without a call for strings up to 16 bytes. */
static inline int rtn_bytes_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	uint64_t p, q, r, t;
	if (n >= 8 && n <= 16) {
		memcpy(&p, x, 8);
		memcpy(&q, y, 8);
		memcpy(&r, x + n - 8, 8);
		memcpy(&t, y + n - 8, 8);
		return ((p ^ q) | (r ^ t)) == 0;
	}
	if (n >= 4 && n < 8) {
		uint32_t p4, q4, r4, t4;
		memcpy(&p4, x, 4);
		memcpy(&q4, y, 4);
		memcpy(&r4, x + n - 4, 4);
		memcpy(&t4, y + n - 4, 4);
		return ((p4 ^ q4) | (r4 ^ t4)) == 0;
	}
	return n == 0 || memcmp(x, y, n) == 0;
}

#endif
