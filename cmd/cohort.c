/* cohort: retention tables, life tables and heatmaps from an events stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohort.h"
#include "stream.h"
#include "util.h"

static const char USAGE[] =
	"usage: cohort [--period day|week|month|quarter] [--week-start DAY] [--tz ZONE]\n"
	"              [--asof DATE] [--start TYPE[,TYPE]] [--return TYPE[,TYPE]]\n"
	"              [--mode day-n|within-n | --windows LIST] [--by ATTR]\n"
	"              [--split-event TYPE [--split-within DURATION]]\n"
	"              [--life-table [--churn-after DURATION]] [--periods N]\n"
	"              [--format F] [--metric M] [--color WHEN] [--partial] [-u]\n"
	"              [--stats] [--progress] [-o FILE] [FILE...]\n"
	"       cohort --combine [--format F] [--metric M] [-o FILE] [PARTIAL...]\n"
	"Acquisition cohorts and their retention from an events stream (see ingest).\n"
	"  --period P        cohort and column period: day, week, month (default), quarter\n"
	"  --week-start DAY  first day of a week (default mon)\n"
	"  --tz ZONE         time zone of the calendar (default UTC)\n"
	"  --asof DATE       last day observed, inclusive (default: day of the last event)\n"
	"  --start TYPES     event types that start a customer (default order)\n"
	"  --return TYPES    event types that count as returning activity (default order)\n"
	"  --mode M          day-n: active in period N (default); within-n: in N or later\n"
	"  --windows LIST    columns are day windows since the start, e.g. 0-7,8-30,31-90\n"
	"  --by ATTR         split cohorts by this attribute at the first start event\n"
	"  --split-event T   compare customers who did T within --split-within (default\n"
	"                    30d) of their start with those who did not\n"
	"  --life-table      survival by tenure period (Kaplan-Meier) instead\n"
	"  --churn-after D   inactivity that counts as churn (default 90d)\n"
	"  --periods N       show at most N period columns\n"
	"  --format F        stream (default), table, csv, tsv, jsonl, svg, html\n"
	"  --metric M        table/svg/html: rate (default), churn, customers, orders,\n"
	"                    revenue, revenue-per-customer, cum-revenue-per-customer\n"
	"  --color WHEN      table colours: auto (default, on a colour terminal), always, never\n"
	"  --partial         write additive cells for a later --combine (needs --asof)\n"
	"  --combine         add partial streams and write the result\n"
	"  -o FILE           write FILE atomically instead of standard output\n"
	"  -u                uncompressed stream blocks\n"
	"  --stats           print input accounting on standard error\n"
	"  --progress        show progress on standard error\n"
	"  -h, --help        this help\n"
	"      --version     print the version\n"
	"Durations: a number and h, d, w, mo or y (90d, 6mo). Exit status: 0 ok,\n"
	"2 usage or unreadable input, 3 corrupt or truncated stream, 4 output error.\n";

typedef struct args {
	cohort_spec spec;
	cohort_out_opts out;
	int partial, combine, stats, progress, color; /* color: -1 auto */
} args;

static void die_usage(const char *opt, const char *arg, const char *what)
{
	rtn_die(RTN_EXIT_USAGE, "%s: '%s' %s", opt, arg, what);
}

static void parse_duration(const char *opt, const char *s, duration *d)
{
	char err[160];
	if (duration_parse(s, d, err, sizeof err))
		rtn_die(RTN_EXIT_USAGE, "%s: %s", opt, err);
	if (d->unit == DUR_HOURS || d->count == 0)
		die_usage(opt, s, "must be at least one day (d, w, mo or y)");
}

static void copy_opt(char *dst, size_t n, const char *opt, const char *s)
{
	if (strlen(s) >= n || !*s)
		die_usage(opt, s, "is empty or too long");
	strcpy(dst, s);
}

static void parse_args(int argc, char **argv, args *a)
{
	static const struct option opts[] = {
		{"asof", 1, NULL, 'a'}, {"by", 1, NULL, 'b'}, {"churn-after", 1, NULL, 'C'},
		{"color", 1, NULL, 'K'}, {"combine", 0, NULL, 'M'}, {"format", 1, NULL, 'f'},
		{"help", 0, NULL, 'h'}, {"life-table", 0, NULL, 'L'}, {"metric", 1, NULL, 'm'},
		{"mode", 1, NULL, 'n'}, {"partial", 0, NULL, 'P'}, {"period", 1, NULL, 'p'},
		{"periods", 1, NULL, 'N'}, {"progress", 0, NULL, 'G'}, {"return", 1, NULL, 'r'},
		{"split-event", 1, NULL, 'e'}, {"split-within", 1, NULL, 'W'}, {"start", 1, NULL, 's'},
		{"stats", 0, NULL, 'S'}, {"tz", 1, NULL, 'z'}, {"version", 0, NULL, 'V'},
		{"week-start", 1, NULL, 'w'}, {"windows", 1, NULL, 'x'}, {NULL, 0, NULL, 0}};
	char err[160];
	int c, mode_set = 0;
	cohort_spec *s = &a->spec;
	while ((c = getopt_long(argc, argv, "ho:u", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (time_parse_date(optarg, &s->asof_day, err, sizeof err) != TIME_OK)
				rtn_die(RTN_EXIT_USAGE, "--asof: %s", err);
			s->has_asof = 1;
			break;
		case 'b': copy_opt(s->by, sizeof s->by, "--by", optarg); break;
		case 'C': parse_duration("--churn-after", optarg, &s->churn_after); break;
		case 'K':
			a->color = !strcmp(optarg, "always") ? 1 : !strcmp(optarg, "never") ? 0
				 : !strcmp(optarg, "auto") ? -1 : -2;
			if (a->color == -2)
				die_usage("--color", optarg, "is not auto, always or never");
			break;
		case 'M': a->combine = 1; break;
		case 'f':
			if (cohort_parse_format(optarg, &a->out.format))
				die_usage("--format", optarg, "is not stream, table, csv, tsv, jsonl, svg or html");
			break;
		case 'L': s->life = 1; break;
		case 'm':
			if (cohort_parse_metric(optarg, &a->out.metric))
				die_usage("--metric", optarg, "is not a metric (see --help)");
			break;
		case 'n':
			if (cohort_parse_mode(optarg, &s->mode))
				die_usage("--mode", optarg, "is not day-n or within-n");
			mode_set = 1;
			break;
		case 'P': a->partial = 1; break;
		case 'p':
			if (cohort_parse_period(optarg, &s->period))
				die_usage("--period", optarg, "is not day, week, month or quarter");
			break;
		case 'N': s->max_periods = rtn_parse_ll("--periods", optarg, 1, 1000000); break;
		case 'G': a->progress = 1; break;
		case 'r': copy_opt(s->ret, sizeof s->ret, "--return", optarg); break;
		case 'e': copy_opt(s->split_event, sizeof s->split_event, "--split-event", optarg); break;
		case 'W': parse_duration("--split-within", optarg, &s->split_within); break;
		case 's': copy_opt(s->start, sizeof s->start, "--start", optarg); break;
		case 'S': a->stats = 1; break;
		case 'z': copy_opt(s->tz_name, sizeof s->tz_name, "--tz", optarg); break;
		case 'w':
			if ((s->week_start = time_parse_weekday(optarg)) < 0)
				die_usage("--week-start", optarg, "is not a weekday (mon..sun)");
			break;
		case 'x':
			if (cohort_parse_windows(optarg, s, err, sizeof err))
				rtn_die(RTN_EXIT_USAGE, "--windows: %s", err);
			break;
		case 'o': a->out.path = optarg; break;
		case 'u': a->out.level = 0; break;
		case 'h': fputs(USAGE, stdout); exit(rtn_close_stdout());
		case 'V': printf("cohort (retain) %s\n", RETAIN_VERSION); exit(rtn_close_stdout());
		default: fputs(USAGE, stderr); exit(RTN_EXIT_USAGE);
		}
	}
	if (mode_set && s->mode == CM_WITHIN_N && s->nwin)
		rtn_die(RTN_EXIT_USAGE, "--windows and --mode within-n exclude each other");
	if (a->partial && (a->combine || !s->has_asof))
		rtn_die(RTN_EXIT_USAGE, "--partial needs --asof (so that all shards agree) and no --combine");
	if (a->partial && a->out.format != CF_STREAM)
		rtn_die(RTN_EXIT_USAGE, "--partial writes a stream; leave out --format");
}

static void print_stats(const cohort_stats *st)
{
	fprintf(stderr, "cohort: read %llu events: %llu used, %llu of other types, %llu without "
		"customer, %llu without time\ncohort: %llu customers: %llu without a start event, "
		"%llu started after --asof, %llu with the --split-within window still open; "
		"%llu returning events after --asof ignored\n",
		(unsigned long long)st->read, (unsigned long long)st->used, (unsigned long long)st->ignored,
		(unsigned long long)st->no_customer, (unsigned long long)st->no_time,
		(unsigned long long)st->customers, (unsigned long long)st->no_start,
		(unsigned long long)st->after_asof_start, (unsigned long long)st->split_open,
		(unsigned long long)st->after_asof_events);
}

static tz_zone *load_zone(const char *name)
{
	char err[200];
	tz_zone *z = tz_load(name, err, sizeof err);
	if (!z)
		rtn_die(RTN_EXIT_USAGE, "--tz: %s", err);
	return z;
}

/* --combine: adds the partial streams named (or standard input). */
static cohort_table *combine(int n, char **paths, rtn_header **first)
{
	cohort_table *t = NULL;
	cohort_spec spec, other;
	char err[200], *stdin_path = "-";
	for (int i = 0; i < (n ? n : 1); i++) {
		char *path = n ? paths[i] : stdin_path;
		rtn_reader *r = rtn_reader_open(&path, 1);
		const rtn_header *h = rtn_reader_header(r);
		if (h->kind != RTN_KIND_COHORT || !(h->flags & RTN_FLAG_PARTIAL))
			rtn_die(RTN_EXIT_USAGE, "%s: not a partial cohort stream (made by cohort --partial)",
				rtn_in_name(path));
		if (cohort_spec_from_meta(i ? &other : &spec, h, err, sizeof err))
			rtn_die(RTN_EXIT_CORRUPT, "%s: %s", rtn_in_name(path), err);
		if (i && memcmp(&spec, &other, sizeof spec) != 0)
			rtn_die(RTN_EXIT_USAGE, "%s: made with other settings than %s", rtn_in_name(path),
				rtn_in_name(paths[0]));
		if (!t) {
			t = cohort_table_new(&spec, load_zone(spec.tz_name));
			*first = rtn_header_derive(h, -1, 0, NULL);
		}
		cohort_combine_add(t, r, rtn_in_name(path));
		rtn_reader_close(r);
	}
	cohort_table_sort(t);
	return t;
}

/* Reads the events stream (FILEs or standard input) into a table. */
static cohort_table *read_events(const args *a, int n, char **paths, rtn_header **in)
{
	rtn_reader *r = rtn_reader_open(paths, n);
	const rtn_header *h = rtn_reader_header(r);
	if (h->kind != RTN_KIND_EVENTS)
		rtn_die(RTN_EXIT_USAGE, "input is a %s stream, not events (made by ingest)",
			rtn_kind_name(h->kind));
	cohort_acc *acc = cohort_acc_new(&a->spec, load_zone(a->spec.tz_name), &h->schema, "input");
	cohort_acc_threads(acc, rtn_reader_size(r) == 0);   /* size 0: a pipe */
	rtn_progress pr;
	rtn_progress_init(&pr, a->progress, 1, rtn_reader_size(r));
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		cohort_acc_add(acc, v);
		if ((rtn_reader_records(r) & 0xffff) == 0)
			rtn_progress_update(&pr, "reading", rtn_reader_offset(r), rtn_reader_records(r));
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	rtn_progress_done(&pr, rtn_reader_offset(r), rtn_reader_records(r));
	cohort_stats st;
	cohort_table *t = cohort_acc_finish(acc, &st);
	cohort_acc_free(acc);
	if (a->stats)
		print_stats(&st);
	*in = rtn_header_derive(h, -1, 0, NULL);
	rtn_reader_close(r);
	return t;
}

int main(int argc, char **argv)
{
	args a;
	memset(&a, 0, sizeof a);
	cohort_spec_init(&a.spec);
	a.out.level = -1;
	a.color = -1;
	rtn_init(argv[0]);
	parse_args(argc, argv, &a);
	a.out.argc = argc;
	a.out.argv = argv;
	char *term = getenv("TERM");
	a.out.color = a.color >= 0 ? a.color
		    : !a.out.path && isatty(1) && !getenv("NO_COLOR") && term && strcmp(term, "dumb");
	/* the output first: a second run writing the same file is refused now */
	a.out.handle = rtn_out_open(a.out.path, 0644);
	rtn_header *in = NULL;
	cohort_table *t = a.combine ? combine(argc - optind, argv + optind, &in)
				    : read_events(&a, argc - optind, argv + optind, &in);
	a.out.in = in;
	if (a.partial) {
		rtn_header *ph = cohort_partial_header(t, argc, argv, in);
		rtn_writer *w = rtn_writer_open_out(a.out.handle, ph, a.out.level);
		cohort_write_partial(t, w);
		rtn_writer_close(w);
		rtn_header_free(ph);
	} else {
		cohort_output(t, &a.out);
	}
	tz_free(t->tz);
	cohort_table_free(t);
	rtn_header_free(in);
	return rtn_close_stdout();
}
