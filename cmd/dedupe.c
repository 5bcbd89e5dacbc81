/* dedupe: drop duplicate events, merge customer aliases, sort by customer
 * and time in bounded memory. The work is in lib/dedupe.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alias.h"
#include "dedupe.h"
#include "stream.h"
#include "util.h"

static const char USAGE[] =
	"usage: dedupe [--key exact|order|COL,...] [--rollup] [--within DURATION]\n"
	"              [--alias FILE] [--dups FILE] [--memory SIZE] [--tmpdir DIR]\n"
	"              [--stats] [--progress] [-o FILE] [-u] [FILE...]\n"
	"Drops duplicate events, merges customer aliases and writes the events\n"
	"sorted by customer, time and the other columns. FILEs are read in order\n"
	"as one stream; none or '-' reads standard input.\n"
	"  --key exact        events equal in every column are duplicates (default)\n"
	"  --key order        same customer and order id (events without one: exact)\n"
	"  --key COL,...      same customer and these columns\n"
	"  --rollup           with --key: sum the amounts of a key's events into its\n"
	"                     first event (line items of an order) instead of dropping\n"
	"  --within DURATION  same customer and amount (or --key columns) closer than\n"
	"                     DURATION (30s, 10min, 2h, 1d, 1w) to the last kept one\n"
	"  --alias FILE       alias,canonical id pairs (CSV/TSV); chains resolve,\n"
	"                     cycles are an error\n"
	"  --dups FILE        write removed events with a 'reason' column (stream)\n"
	"  --memory SIZE      sort buffer (default 256M); beyond it sorted runs are\n"
	"                     spilled to temporary files and merged\n"
	"  --tmpdir DIR       for those files (default $TMPDIR, else /tmp)\n"
	"  --stats            print read / kept / removed by reason on standard error\n"
	"  --progress         progress on standard error (automatic on a terminal)\n"
	"  -o FILE            write FILE atomically (compressed blocks)\n"
	"  -u                 stored (uncompressed) blocks\n"
	"  -h, --help         this help\n"
	"      --version      print the version\n"
	"Exit status: 0 ok, 2 usage or unreadable input, 3 damaged or truncated\n"
	"stream, 4 output or system error.\n";

static void check_tmpdir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0)
		rtn_die(RTN_EXIT_USAGE, "--tmpdir: %s: not a writable directory", dir);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"alias", required_argument, NULL, 'a'}, {"dups", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'}, {"key", required_argument, NULL, 'k'},
		{"memory", required_argument, NULL, 'm'}, {"progress", no_argument, NULL, 'p'},
		{"rollup", no_argument, NULL, 'r'}, {"stats", no_argument, NULL, 's'},
		{"tmpdir", required_argument, NULL, 't'}, {"version", no_argument, NULL, 'V'},
		{"within", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	dedupe_opts o;
	dedupe_opts_init(&o);
	const char *alias_path = NULL;
	int stats = 0, progress = 0, c;
	rtn_init(argv[0]);
	while ((c = getopt_long(argc, argv, "ho:u", opts, NULL)) != -1) {
		switch (c) {
		case 'a': alias_path = optarg; break;
		case 'd': o.dups_path = optarg; break;
		case 'k': dedupe_parse_key(&o, optarg); break;
		case 'm': o.memory = rtn_parse_size("--memory", optarg); break;
		case 'o': o.out_path = optarg; break;
		case 'p': progress = 1; break;
		case 'r': o.rollup = 1; break;
		case 's': stats = 1; break;
		case 't': o.tmpdir = optarg; break;
		case 'u': o.level = 0; break;
		case 'w': o.within = dedupe_parse_within(optarg); break;
		case 'h': fputs(USAGE, stdout); return rtn_close_stdout();
		case 'V': printf("dedupe (retain) %s\n", RETAIN_VERSION); return rtn_close_stdout();
		default: fputs(USAGE, stderr); return RTN_EXIT_USAGE;
		}
	}
	if (o.rollup && o.mode == DEDUPE_EXACT)
		rtn_die(RTN_EXIT_USAGE, "--rollup needs --key order or --key COL,... (exact duplicates are not line items)");
	if (o.rollup && o.within)
		rtn_die(RTN_EXIT_USAGE, "--rollup and --within cannot be combined");
	check_tmpdir(extsort_tmpdir(o.tmpdir));
	if (alias_path)
		o.alias = alias_load(alias_path);
	rtn_reader *r = rtn_reader_open(argv + optind, argc - optind);
	rtn_progress prog;
	rtn_progress_init(&prog, progress, 1, rtn_reader_size(r));
	o.progress = prog.on ? &prog : NULL;
	dedupe_stats st;
	dedupe_run(&o, r, argc, argv, &st);
	if (stats)
		dedupe_print_stats(stderr, &st);
	rtn_reader_close(r);
	alias_free((alias_map *)o.alias);
	dedupe_opts_free(&o);
	return RTN_EXIT_OK; /* the writer has checked and closed the output */
}
