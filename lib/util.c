/* Shared plumbing: messages, checked allocation, fault injection, atomic
 * output files, signal cleanup, number parsing, hashing, progress. */
/* mremap */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *rtn_progname = "retain";

/* ---- temporary files removed on failure or signal ---- */

/* Output files hold two entries (temporary file and lock); spill files of an
 * external sort one each (rtn_temp_register). A fixed array keeps the signal
 * handler async-signal-safe. */
#define MAX_TEMPS 256
static char *temp_paths[MAX_TEMPS];
static volatile sig_atomic_t in_cleanup;

static void temps_add(char *path)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (!temp_paths[i]) {
			temp_paths[i] = path;
			return;
		}
	rtn_die(RTN_EXIT_SYSTEM, "too many temporary files (limit %d)", MAX_TEMPS);
}

static void temps_forget(const char *path)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temp_paths[i] == path)
			temp_paths[i] = NULL;
}

void rtn_temp_register(char *path)
{
	temps_add(path);
}

void rtn_temp_forget(const char *path)
{
	temps_forget(path);
}

static void temps_remove_all(void)
{
	for (int i = 0; i < MAX_TEMPS; i++)
		if (temp_paths[i])
			unlink(temp_paths[i]); /* async-signal-safe */
}

static void on_signal(int sig)
{
	if (!in_cleanup) {
		in_cleanup = 1;
		temps_remove_all();
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- fault injection ---- */

struct fault {
	char kind[16];
	long at;
	_Atomic long seen;   /* counted from any thread */
};
static struct fault faults[8];
static int nfaults;

static void faults_read(void)
{
	const char *spec = getenv("RETAIN_FAIL");
	while (spec && *spec && nfaults < 8) {
		const char *colon = strchr(spec, ':');
		if (!colon || colon - spec >= 16)
			break;
		struct fault *f = &faults[nfaults++];
		memcpy(f->kind, spec, (size_t)(colon - spec));
		f->kind[colon - spec] = 0;
		f->at = strtol(colon + 1, NULL, 10);
		const char *comma = strchr(colon, ',');
		spec = comma ? comma + 1 : NULL;
	}
}

int rtn_fault(const char *kind)
{
	for (int i = 0; i < nfaults; i++)
		if (strcmp(faults[i].kind, kind) == 0 && ++faults[i].seen == faults[i].at) {
			errno = strcmp(kind, "alloc") == 0 ? ENOMEM : strcmp(kind, "rename") == 0 ? EACCES : ENOSPC;
			return 1;
		}
	return 0;
}

void rtn_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	rtn_progname = slash ? slash + 1 : argv0 ? argv0 : "retain";
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* A signal ignored by whoever started us stays ignored: `nohup prog`
	 * must survive a hang-up, and a background job an interrupt. */
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction old;
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	/* A reader going away (| head) kills us with SIGPIPE: remove temporary
	 * files first, then die of it as before. Left alone when SIGPIPE is
	 * ignored, so that writes fail with EPIPE instead. */
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		sigaction(SIGPIPE, &sa, NULL);
	faults_read();
}

/* ---- messages ---- */

void rtn_vwarn(const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: ", rtn_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void rtn_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rtn_vwarn(fmt, ap);
	va_end(ap);
}

void rtn_die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rtn_vwarn(fmt, ap);
	va_end(ap);
	temps_remove_all();
	exit(code);
}

/* ---- allocation ---- */

static _Noreturn void oom(size_t n)
{
	rtn_die(RTN_EXIT_SYSTEM, "out of memory (allocating %zu bytes)", n);
}

/* Asks for huge pages on the 2 MiB-aligned part of [p, p + n) (a hint;
 * failure is harmless). */
static void huge_pages(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + n) & ~(huge - 1);
	if (e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

/* Huge pages asked for, or 4 KiB pages (a hint as well). */
static void set_pages(void *p, size_t n, int huge)
{
	if (huge)
		huge_pages(p, n);
#ifdef MADV_NOHUGEPAGE
	else
		madvise(p, n, MADV_NOHUGEPAGE);
#endif
}

/* From 2 MiB up: aligned to 2 MiB, with huge pages asked for before the
 * first touch. Big blocks are tables and arrays of millions of customers,
 * read at random; fresh 4 KiB pages are a fault each, and calloc or realloc
 * may touch or copy them before a later madvise could act. */
#define BIG_MIN ((size_t)2 << 20)
static void *big_alloc(size_t n, int zero)
{
	size_t m = (n + BIG_MIN - 1) & ~(BIG_MIN - 1);
	void *p = aligned_alloc(BIG_MIN, m);
	if (p) {
		huge_pages(p, m);
		if (zero)
			memset(p, 0, n);
	}
	return p;
}

void *xmalloc(size_t n)
{
	void *p;
	if (rtn_fault("alloc"))
		p = NULL;
	else if (n >= BIG_MIN && n <= SIZE_MAX - BIG_MIN)
		p = big_alloc(n, 0);
	else
		p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p;
	if ((size && n > SIZE_MAX / size) || rtn_fault("alloc"))
		p = NULL;
	else if (n * size >= BIG_MIN && n * size <= SIZE_MAX - BIG_MIN)
		p = big_alloc(n * size, 1);
	else
		p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = rtn_fault("alloc") ? NULL : realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}


static void *big_map(size_t n, int huge)
{
#ifdef MAP_ANONYMOUS
	void *p = rtn_fault("alloc") ? MAP_FAILED
				      : mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		oom(n);
	set_pages(p, n, huge);
	return p;
#else
	(void)huge;
	return xcalloc(1, n);
#endif
}

static void big_grow(void **p, size_t *cap, size_t need, int huge)
{
	size_t old = *cap, n = old ? old : 4096;
	if (need <= old)
		return;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			oom(need);
		n *= 2;
	}
	if (n < BIG_MIN) {
		*p = xrealloc(*p, n);
		memset((char *)*p + old, 0, n - old);
	} else {
		n = (n + BIG_MIN - 1) & ~(BIG_MIN - 1);
		void *q = NULL;
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
		if (old >= BIG_MIN) {   /* a mapping already: its pages move as they are */
			if (rtn_fault("alloc"))
				oom(n);
			q = mremap(*p, old, n, MREMAP_MAYMOVE);
			if (q == MAP_FAILED)
				q = NULL;   /* (valgrind, for one, cannot always move a mapping) */
			else
				set_pages(q, n, huge);
		}
#endif
		if (!q) {
			q = big_map(n, huge);   /* zero */
			if (old)
				memcpy(q, *p, old);
			rtn_big_free(*p, old);
		}
		*p = q;
	}
	*cap = n;
}

void rtn_big_grow(void **p, size_t *cap, size_t need)
{
	big_grow(p, cap, need, 1);
}

void rtn_big_grow_small(void **p, size_t *cap, size_t need)
{
	big_grow(p, cap, need, 0);
}

void rtn_big_free(void *p, size_t cap)
{
	if (!p)
		return;
#ifdef MAP_ANONYMOUS
	if (cap >= BIG_MIN) {
		munmap(p, cap);
		return;
	}
#endif
	(void)cap;
	free(p);
}

void rtn_big_prefault(void *p, size_t cap, size_t from, size_t len)
{
	if (!p || from >= cap || cap < BIG_MIN)   /* below BIG_MIN: malloc'd, not a mapping */
		return;
	if (len > cap - from)
		len = cap - from;
#ifdef MADV_POPULATE_WRITE
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p + from, e = a + len;
	if (pg > 0)
		a &= ~((uintptr_t)pg - 1);   /* the mapping starts on a page: whole pages stay inside it */
	(void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
	(void)len;
#endif
}

int rtn_threads_env(void)
{
	const char *env = getenv("RETAIN_THREADS");
	return env && *env ? atoi(env) : 0;
}

int rtn_threads_allowed(void)
{
	return rtn_threads_env() != 1 && sysconf(_SC_NPROCESSORS_ONLN) >= 2;
}

int rtn_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, size_t stack)
{
	/* the new thread starts with the signals that end the program
	 * blocked: they reach the main thread, which holds them while it
	 * creates and registers a temporary file (see hold_signals) */
	sigset_t block, old;
	sigfillset(&block);
	int sync[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
	for (size_t i = 0; i < sizeof sync / sizeof *sync; i++)
		sigdelset(&block, sync[i]);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_attr_t at;
	int rc = pthread_attr_init(&at);
	if (rc == 0) {
		if (stack)
			pthread_attr_setstacksize(&at, stack < (size_t)PTHREAD_STACK_MIN ? (size_t)PTHREAD_STACK_MIN : stack);
		rc = pthread_create(t, &at, fn, arg);
		pthread_attr_destroy(&at);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void rtn_radix_sort_u64(uint64_t *key, uint32_t *idx, size_t n)
{
	rtn_radix_sort_u64_buf(key, idx, n, NULL, NULL);
}

void rtn_radix_sort_u64_buf(uint64_t *key, uint32_t *idx, size_t n, uint64_t *kbuf, uint32_t *ibuf)
{
	uint64_t *own_k = kbuf ? NULL : xmalloc((n ? n : 1) * sizeof *own_k);
	uint32_t *own_i = idx && !ibuf ? xmalloc((n ? n : 1) * sizeof *own_i) : NULL;
	uint64_t *k = key, *k2 = kbuf ? kbuf : own_k;
	uint32_t *i1 = idx, *i2 = idx ? (ibuf ? ibuf : own_i) : NULL;
	size_t *cnt = xmalloc(65536 * sizeof *cnt);
	for (int sh = 0; sh < 64; sh += 16) {
		memset(cnt, 0, 65536 * sizeof *cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(k[i] >> sh) & 0xffff]++;
		if (n == 0 || cnt[(k[0] >> sh) & 0xffff] == n)
			continue;
		size_t sum = 0;
		for (size_t b = 0; b < 65536; b++) {
			size_t c = cnt[b];
			cnt[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t j = cnt[(k[i] >> sh) & 0xffff]++;
			k2[j] = k[i];
			if (idx)
				i2[j] = i1[i];
		}
		uint64_t *tk = k;
		k = k2;
		k2 = tk;
		uint32_t *ti = i1;
		i1 = i2;
		i2 = ti;
	}
	if (k != key) {   /* an odd number of passes: the result is in the scratch arrays */
		memcpy(key, k, n * sizeof *key);
		if (idx)
			memcpy(idx, i1, n * sizeof *idx);
	}
	free(own_k);
	free(own_i);
	free(cnt);
}

void rtn_pipe_grow(int fd)
{
#ifdef __linux__
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		(void)fcntl(fd, 1031 /* F_SETPIPE_SZ */, 1 << 20);
#else
	(void)fd;
#endif
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void xgrow(void **buf, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			oom(SIZE_MAX);
		c *= 2;
	}
	*buf = xrealloc(*buf, c * elem);
	*cap = c;
}

/* ---- checked output ---- */

int rtn_fwrite(const void *p, size_t n, FILE *f)
{
	if (rtn_fault("write"))
		return -1;
	if (n && fwrite(p, 1, n, f) != n)
		return -1;
	return 0;
}

int rtn_close_stdout(void)
{
	static int closed, result;
	if (closed)
		return result;
	closed = 1;
	int bad = 0;
	errno = 0;
	if (rtn_fault("close") || fflush(stdout) != 0 || ferror(stdout))
		bad = 1;
	int e = errno;
	if (fclose(stdout) != 0 && !bad) {
		bad = 1;
		e = errno;
	}
	if (bad) {
		fprintf(stderr, "%s: standard output: write error%s%s\n", rtn_progname,
			e ? ": " : "", e ? strerror(e) : "");
		return result = RTN_EXIT_SYSTEM;
	}
	return RTN_EXIT_OK;
}

struct rtn_out {
	FILE *f;
	char *path, *tmp, *lock;
	int lockfd;
	int direct;     /* a device or FIFO written in place */
};

/* ".NAME" + suffix in NAME's folder. A NAME too long to take the prefix
 * and suffix within the 255-byte file name limit is cut to 200 bytes plus
 * 16 hex digits of its hash, so long output names still work. */
static char *sibling(const char *path, const char *suffix)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
	const char *base = path + dirlen;
	size_t blen = strlen(base), n = strlen(path) + strlen(suffix) + 24;
	char *s = xmalloc(n);
	if (blen + strlen(suffix) + 1 > 255)
		snprintf(s, n, "%.*s.%.200s-%016llx%s", (int)dirlen, path, base,
			 (unsigned long long)rtn_hash64(base, blen), suffix);
	else
		snprintf(s, n, "%.*s.%s%s", (int)dirlen, path, base, suffix);
	return s;
}

/* Exclusive lock on ".NAME.lock", checked to be the file still at that path
 * (a previous holder may unlink it between our open and flock). */
static int take_lock(const char *lock)
{
	for (int tries = 0; tries < 10; tries++) {
		int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -2;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd);
			return -1;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(lock, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return -1;
}

/* Blocks (block = 1) or restores the signals that remove temporary files,
 * so that a file is never created without being registered. */
static void hold_signals(int block, sigset_t *old)
{
	if (block) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGINT);
		sigaddset(&s, SIGTERM);
		sigaddset(&s, SIGHUP);
		sigprocmask(SIG_BLOCK, &s, old);
	} else {
		sigprocmask(SIG_SETMASK, old, NULL);
	}
}

rtn_out *rtn_out_open(const char *path, int mode)
{
	rtn_out *o = xcalloc(1, sizeof *o);
	o->lockfd = -1;
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return o;
	}
	size_t plen = strlen(path);
	if (plen == 0)
		rtn_die(RTN_EXIT_USAGE, "empty output file name");
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rtn_die(RTN_EXIT_USAGE, "%s: is a directory", path);
	if (path[plen - 1] == '/')
		rtn_die(RTN_EXIT_USAGE, "%s: names a folder, not a file", path);
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device or FIFO (/dev/null, /dev/full, a named pipe) is written
		 * in place: renaming a temporary file over it would replace it. */
		o->f = fopen(path, "wb");
		if (!o->f)
			rtn_die(RTN_EXIT_SYSTEM, "%s: cannot open for writing: %s", path, strerror(errno));
		o->path = xstrdup(path);
		o->direct = 1;
		return o;
	}
	o->path = xstrdup(path);
	o->lock = sibling(path, ".lock");
	o->tmp = sibling(path, ".XXXXXX");
	/* No signal between creating a file and registering it for removal. */
	sigset_t old;
	hold_signals(1, &old);
	o->lockfd = take_lock(o->lock);
	int e = errno;
	if (o->lockfd >= 0)
		temps_add(o->lock);
	hold_signals(0, &old);
	if (o->lockfd == -1)
		rtn_die(RTN_EXIT_SYSTEM, "%s: another run is writing this file (lock %s held)", path, o->lock);
	if (o->lockfd < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: cannot create file: %s", path, strerror(e));
	hold_signals(1, &old);
	int fd = mkstemp(o->tmp);
	e = errno;
	if (fd >= 0)
		temps_add(o->tmp);
	hold_signals(0, &old);
	if (fd < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: cannot create file: %s", path, strerror(e));
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, (mode_t)mode & ~mask) != 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	o->f = fdopen(fd, "wb");
	if (!o->f)
		rtn_die(RTN_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	return o;
}

FILE *rtn_out_file(rtn_out *o) { return o->f; }
int rtn_out_is_stdout(const rtn_out *o) { return o->path == NULL; }
const char *rtn_out_name(const rtn_out *o) { return o->path ? o->path : "standard output"; }

static void out_free(rtn_out *o)
{
	if (o->lockfd >= 0) {
		unlink(o->lock);
		temps_forget(o->lock);
		close(o->lockfd);
	}
	free(o->path);
	free(o->tmp);
	free(o->lock);
	free(o);
}

int rtn_out_commit(rtn_out *o)
{
	if (!o->path) {
		int rc = rtn_close_stdout();
		free(o);
		if (rc)
			exit(rc);
		return 0;
	}
	const char *what = "write error";
	errno = 0;
	if (fflush(o->f) != 0 || ferror(o->f))
		goto fail;
	what = "fsync failed";
	if (rtn_fault("fsync") || (!o->direct && fsync(fileno(o->f)) != 0))
		goto fail;
	what = "close failed";
	FILE *f = o->f;
	o->f = NULL;
	if (rtn_fault("close") || fclose(f) != 0)
		goto fail;
	what = "cannot rename temporary file into place";
	if (!o->direct && (rtn_fault("rename") || rename(o->tmp, o->path) != 0))
		goto fail;
	if (o->tmp)
		temps_forget(o->tmp);
	out_free(o);
	return 0;
fail:
	rtn_die(RTN_EXIT_SYSTEM, "%s: %s%s%s", o->path, what, errno ? ": " : "", errno ? strerror(errno) : "");
}

void rtn_out_abort(rtn_out *o)
{
	if (!o)
		return;
	if (o->path) {
		if (o->f)
			fclose(o->f);
		if (o->tmp) {
			unlink(o->tmp);
			temps_forget(o->tmp);
		}
		out_free(o);
	} else {
		free(o);
	}
}

/* ---- input ---- */

const char *rtn_in_name(const char *path)
{
	return !path || strcmp(path, "-") == 0 ? "standard input" : path;
}

FILE *rtn_in_open(const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return stdin;
	struct stat st;
	FILE *f = fopen(path, "rb");
	if (!f)
		rtn_die(RTN_EXIT_USAGE, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode))
		rtn_die(RTN_EXIT_USAGE, "%s: is a directory", path);
	return f;
}

/* ---- numbers ---- */

long long rtn_parse_ll(const char *opt, const char *s, long long lo, long long hi)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno == ERANGE || v < lo || v > hi)
		rtn_die(RTN_EXIT_USAGE, "%s: '%s' is not a whole number from %lld to %lld", opt, s, lo, hi);
	return v;
}

size_t rtn_parse_size(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned long long mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1ULL << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1ULL << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1ULL << 30, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (!*s || *s == '-' || *end || errno == ERANGE || v == 0 || v > (1ULL << 50) / mult)
		rtn_die(RTN_EXIT_USAGE, "%s: '%s' is not a size (e.g. 512M, 2G)", opt, s);
	return (size_t)(v * mult);
}

/* ---- provenance ---- */

char *rtn_cmdline(int argc, char **argv)
{
	size_t cap = 64, len = 0;
	char *s = xmalloc(cap);
	len = (size_t)snprintf(s, cap, "%s %s", rtn_progname, RETAIN_VERSION);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int quote = !*a || strpbrk(a, " \t\n'\"\\$`*?;&|<>()") != NULL;
		xgrow((void **)&s, &cap, len + 4 * strlen(a) + 8, 1);
		s[len++] = ' ';
		if (quote)
			s[len++] = '\'';
		for (; *a; a++) {
			if (*a == '\'') {
				memcpy(s + len, "'\\''", 4);
				len += 4;
			} else if (*a == '\n') {
				s[len++] = ' ';
			} else {
				s[len++] = *a;
			}
		}
		if (quote)
			s[len++] = '\'';
		s[len] = 0;
	}
	return s;
}

/* ---- hashing ---- */

static inline uint64_t load_le(const unsigned char *b, size_t n)
{
	uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n == 8) {
		memcpy(&w, b, 8);
		return w;
	}
#endif
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)b[i] << (8 * i);
	return w;
}

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* Word at a time (documented in retain-stream(5)): h = n * K; for each
 * 8-byte little-endian word w (the last one zero-padded), h = (h ^ w) * K
 * rotated left by 31; the result is the splitmix64 finaliser of h. */
uint64_t rtn_hash64(const void *p, size_t n)
{
	const uint64_t K = 0x9e3779b97f4a7c15ULL;
	const unsigned char *b = p;
	uint64_t h = (uint64_t)n * K;
	while (n >= 8) {
		h = (h ^ load_le(b, 8)) * K;
		h = h << 31 | h >> 33;
		b += 8;
		n -= 8;
	}
	if (n) {
		h = (h ^ load_le(b, n)) * K;
		h = h << 31 | h >> 33;
	}
	return mix64(h);
}

/* ---- progress ---- */

double rtn_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void rtn_progress_init(rtn_progress *p, int asked, int autodetect, uint64_t total_bytes)
{
	memset(p, 0, sizeof *p);
	p->on = asked || (autodetect && isatty(2));
	p->total_bytes = total_bytes;
	p->start = p->last = rtn_now();
	p->phase = "read";
}

static void human_bytes(double b, char *buf, size_t n)
{
	const char *u[] = {"B", "KB", "MB", "GB", "TB"};
	int i = 0;
	while (b >= 1000 && i < 4)
		b /= 1000, i++;
	snprintf(buf, n, "%.1f %s", b, u[i]);
}

static void progress_print(rtn_progress *p, uint64_t bytes, uint64_t rows, double now, int final)
{
	double el = now - p->start;
	if (el <= 0)
		el = 1e-9;
	char b[32], rate[32];
	human_bytes((double)bytes, b, sizeof b);
	human_bytes(bytes / el, rate, sizeof rate);
	fprintf(stderr, "\r%s: %s: %s, %llu rows, %s/s", rtn_progname, p->phase, b,
		(unsigned long long)rows, rate);
	if (p->total_bytes && !final) {
		double frac = (double)bytes / (double)p->total_bytes;
		if (frac > 1)
			frac = 1;
		double left = frac > 0 ? el * (1 - frac) / frac : 0;
		fprintf(stderr, ", %.0f%%, %.0fs left", frac * 100, left);
	}
	fputs(final ? "    \n" : "    ", stderr);
}

void rtn_progress_update(rtn_progress *p, const char *phase, uint64_t bytes, uint64_t rows)
{
	if (!p->on)
		return;
	double now = rtn_now();
	if (phase && phase != p->phase) {
		p->phase = phase;
	} else if (now - p->last < 0.25) {
		return;
	}
	p->last = now;
	progress_print(p, bytes, rows, now, 0);
}

void rtn_progress_done(rtn_progress *p, uint64_t bytes, uint64_t rows)
{
	if (p->on)
		progress_print(p, bytes, rows, rtn_now(), 1);
}
