/* rfm: one customers record per customer from an events stream: values,
 * R/F/M scores, segment and lifecycle stage (or the health summary). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custagg.h"
#include "rfm.h"
#include "stream.h"
#include "timeparse.h"
#include "util.h"

static const char USAGE[] =
	"usage: rfm [--asof DATE] [--tz ZONE] [--unit week|day] [--window DUR] [--recent DUR]\n"
	"           [--bins N] [--breaks SPEC | --breaks-from FILE] [--breaks-out FILE]\n"
	"           [--segments classic8|named|FILE] [--lang en|zh] [--stage-rules FILE]\n"
	"           [--carry ATTR,...] [--events TYPE,...] [--summary] [--stats]\n"
	"           [-o FILE] [-u] [--progress] [FILE...]\n"
	"Turns an events stream into one customers record per customer.\n"
	"  --asof DATE        analysis day, inclusive (default: day of the last event)\n"
	"  --tz ZONE          calendar days in ZONE (default UTC)\n"
	"  --unit U           unit of t_x and T: week (default) or day\n"
	"  --window DUR       orders, revenue, refunds, aov, F and M count only the last\n"
	"                     DUR up to --asof (e.g. 52w, 12mo); needs --asof\n"
	"  --recent DUR       recent_purchases in the last DUR, prior_rate before; needs --asof\n"
	"  --bins N           scores 1..N, 2 to 9 (default 5)\n"
	"  --breaks SPEC      fixed breaks 'r=30,90,180,365;f=2,3,5,8;m=50,100,200,500'\n"
	"  --breaks-from FILE read the breaks from FILE (as written by --breaks-out)\n"
	"  --breaks-out FILE  write the breaks used to FILE\n"
	"  --segments S       classic8, named (default) or a rule FILE\n"
	"  --lang L           classic8 names in en (default) or zh\n"
	"  --stage-rules FILE lifecycle thresholds, per group of a carried attribute\n"
	"  --carry A,...      carry the first value of these attributes\n"
	"  --events T,...     add T_count and T_last for these event types\n"
	"  --summary          print the health overview (text) instead of records\n"
	"  --stats            print counts and breaks on standard error\n"
	"  -o FILE            write FILE atomically (default standard output)\n"
	"  -u                 uncompressed blocks in FILE\n"
	"  --progress         show progress on standard error\n"
	"  -h, --help         this help\n"
	"      --version      print the version\n"
	"Exit status: 0 ok, 2 usage or unreadable input, 3 damaged or truncated\n"
	"stream, 4 output error.\n";

typedef struct args {
	ca_opts ca;
	rfm_opts rfm;
	const char *out, *breaks_out, *asof, *window, *recent;
	char *breaks_text;   /* --breaks-from contents */
	seg_rules *rules;
	int summary, stats, progress, level;
} args;

static void split_list(const char *opt, char *s, const char **list, int *n)
{
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (*n >= CA_MAX_NAMES)
			rtn_die(RTN_EXIT_USAGE, "%s: more than %d names", opt, CA_MAX_NAMES);
		list[(*n)++] = tok;
	}
}

static char *slurp(const char *path)
{
	FILE *f = rtn_in_open(path);
	size_t cap = 0, len = 0, got;
	char *buf = NULL;
	do {
		xgrow((void **)&buf, &cap, len + 4097, 1);
		got = fread(buf + len, 1, 4096, f);
		len += got;
		if (len > (1u << 20))
			rtn_die(RTN_EXIT_USAGE, "%s: too large for a breaks file", path);
	} while (got);
	if (ferror(f))
		rtn_die(RTN_EXIT_USAGE, "%s: read error", path);
	if (f != stdin)
		fclose(f);
	buf[len] = 0;
	return buf;
}

/* Days of the window DUR ending with asof_day: its first day. */
static int64_t window_start(const char *opt, const char *spec, int64_t asof_day, tz_zone *tz)
{
	duration d;
	char err[200];
	int64_t t;
	if (duration_parse(spec, &d, err, sizeof err) < 0)
		rtn_die(RTN_EXIT_USAGE, "%s: %s", opt, err);
	if (duration_add(time_day_start(asof_day + 1, tz), &d, -1, tz, &t) < 0)
		rtn_die(RTN_EXIT_USAGE, "%s: %s reaches outside years 1-9999", opt, spec);
	int64_t day = time_local_day(t, tz);
	/* a window that starts inside a day starts with the next whole day */
	return time_day_start(day, tz) < t ? day + 1 : day;
}

static int parse_args(int argc, char **argv, args *a)
{
	static const struct option opts[] = {
		{"asof", required_argument, NULL, 'a'}, {"bins", required_argument, NULL, 'b'},
		{"breaks", required_argument, NULL, 'B'}, {"breaks-from", required_argument, NULL, 'F'},
		{"breaks-out", required_argument, NULL, 'O'}, {"carry", required_argument, NULL, 'c'},
		{"events", required_argument, NULL, 'e'}, {"help", no_argument, NULL, 'h'},
		{"lang", required_argument, NULL, 'l'}, {"progress", no_argument, NULL, 'P'},
		{"recent", required_argument, NULL, 'r'}, {"segments", required_argument, NULL, 's'},
		{"stage-rules", required_argument, NULL, 'g'}, {"stats", no_argument, NULL, 'S'},
		{"summary", no_argument, NULL, 'm'}, {"tz", required_argument, NULL, 'z'},
		{"unit", required_argument, NULL, 'U'}, {"version", no_argument, NULL, 'V'},
		{"window", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	const char *breaks = NULL, *breaks_from = NULL, *segments = "named", *rules_path = NULL;
	char err[300];
	int c, bins_given = 0;
	while ((c = getopt_long(argc, argv, "ho:u", opts, NULL)) != -1) {
		switch (c) {
		case 'a': a->asof = optarg; break;
		case 'b': a->rfm.bins = (int)rtn_parse_ll("--bins", optarg, 2, RFM_BINS_MAX); bins_given = 1; break;
		case 'B': breaks = optarg; break;
		case 'F': breaks_from = optarg; break;
		case 'O': a->breaks_out = optarg; break;
		case 'c': split_list("--carry", optarg, a->ca.carry, &a->ca.ncarry); break;
		case 'e': split_list("--events", optarg, a->ca.events, &a->ca.nevents); break;
		case 'g': rules_path = optarg; break;
		case 'l':
			if (strcmp(optarg, "en") && strcmp(optarg, "zh"))
				rtn_die(RTN_EXIT_USAGE, "--lang: '%s' is not en or zh", optarg);
			a->rfm.zh = optarg[0] == 'z';
			break;
		case 'm': a->summary = 1; break;
		case 'o': a->out = optarg; break;
		case 'P': a->progress = 1; break;
		case 'r': a->recent = optarg; break;
		case 's': segments = optarg; break;
		case 'S': a->stats = 1; break;
		case 'u': a->level = 0; break;
		case 'U':
			if (strcmp(optarg, "week") && strcmp(optarg, "day"))
				rtn_die(RTN_EXIT_USAGE, "--unit: '%s' is not week or day", optarg);
			a->rfm.unit_days = optarg[0] == 'w' ? 7 : 1;
			break;
		case 'w': a->window = optarg; break;
		case 'z':
			if (!(a->ca.tz = tz_load(optarg, err, sizeof err)))
				rtn_die(RTN_EXIT_USAGE, "--tz: %s", err);
			break;
		case 'h': fputs(USAGE, stdout); exit(rtn_close_stdout());
		case 'V': printf("rfm (retain) %s\n", RETAIN_VERSION); exit(rtn_close_stdout());
		default: fputs(USAGE, stderr); exit(RTN_EXIT_USAGE);
		}
	}
	if (breaks && breaks_from)
		rtn_die(RTN_EXIT_USAGE, "--breaks and --breaks-from exclude each other");
	if (breaks_from)
		breaks = a->breaks_text = slurp(breaks_from);
	if (breaks) {
		if (!bins_given)   /* bins = number of r breaks + 1 */
			for (const char *p = strstr(breaks, "r="); p; p = NULL)
				for (a->rfm.bins = 2, p += 2; *p && !strchr(";\n", *p); p++)
					a->rfm.bins += *p == ',';
		if (a->rfm.bins > RFM_BINS_MAX)
			rtn_die(RTN_EXIT_USAGE, "%s: more than %d bins", breaks_from ? breaks_from : "--breaks", RFM_BINS_MAX);
		if (rfm_breaks_parse(breaks, a->rfm.bins, a->rfm.breaks, err, sizeof err) < 0)
			rtn_die(RTN_EXIT_USAGE, "%s: %s", breaks_from ? breaks_from : "--breaks", err);
		a->rfm.have_breaks = 1;
	}
	a->rfm.segments_name = segments;
	if (!strcmp(segments, "classic8"))
		a->rfm.seg_mode = SEG_CLASSIC8;
	else if (!strcmp(segments, "named")) {
		if (a->rfm.bins != 5)
			rtn_die(RTN_EXIT_USAGE, "--segments named is defined for 5 bins; use classic8 or a rule file");
		a->rfm.seg_mode = SEG_NAMED;
		a->rfm.rules = a->rules = seg_named_default();
	} else {
		a->rfm.seg_mode = SEG_FILE;
		a->rfm.rules = a->rules = seg_rules_load(segments, a->rfm.bins);
	}
	if (rules_path) {
		a->rfm.stages = stage_rules_load(rules_path);
		if (a->rfm.stages->column) {   /* the group column is carried */
			int k = 0;
			while (k < a->ca.ncarry && strcmp(a->ca.carry[k], a->rfm.stages->column))
				k++;
			if (k == a->ca.ncarry)
				split_list("--stage-rules", a->rfm.stages->column, a->ca.carry, &a->ca.ncarry);
			a->rfm.stage_carry = k;
		}
	}
	if (!a->asof && (a->window || a->recent))
		rtn_die(RTN_EXIT_USAGE, "%s needs --asof (the window must be known while reading)",
		        a->window ? "--window" : "--recent");
	if (a->asof) {
		a->ca.have_asof = 1;
		if (time_parse_date(a->asof, &a->ca.asof_day, err, sizeof err) != TIME_OK)
			rtn_die(RTN_EXIT_USAGE, "--asof: %s", err);
	}
	a->ca.window_start_day = a->window ? window_start("--window", a->window, a->ca.asof_day, a->ca.tz) : INT64_MIN;
	a->ca.recent_start_day = a->recent ? window_start("--recent", a->recent, a->ca.asof_day, a->ca.tz) : INT64_MIN;
	return optind;
}

static void write_breaks(rtn_out *o, rfm_result *res)
{
	char buf[1024];
	rfm_breaks_format(res->breaks, res->o->bins, buf, sizeof buf);
	FILE *f = rtn_out_file(o);
	if (fprintf(f, "%s\n", buf) < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: write error", rtn_out_name(o));
	rtn_out_commit(o);
}

int main(int argc, char **argv)
{
	args a = {.rfm = {.bins = 5, .unit_days = 7, .stage_carry = -1}, .level = -1};
	rtn_init(argv[0]);
	int first = parse_args(argc, argv, &a);
	/* outputs first: a second run writing the same files is refused now */
	rtn_out *out = rtn_out_open(a.out, 0644);
	rtn_out *bout = a.breaks_out ? rtn_out_open(a.breaks_out, 0644) : NULL;
	rtn_reader *r = rtn_reader_open(argv + first, argc - first);
	const rtn_header *h = rtn_reader_header(r);
	a.ca.sorted = (h->flags & RTN_FLAG_SORTED) != 0;
	custagg *agg = ca_new(&a.ca);
	ca_bind(agg, &h->schema, "the events stream");
	ca_threads(agg, rtn_reader_size(r) == 0);   /* size 0: a pipe */
	rtn_progress prog;
	rtn_progress_init(&prog, a.progress, 1, rtn_reader_size(r));
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		if (ca_add(agg, v) < 0)
			rtn_die(RTN_EXIT_CORRUPT, "%s", agg->err);
		if (prog.on && (agg->st.read & 0xffff) == 0)
			rtn_progress_update(&prog, "reading", rtn_reader_offset(r), agg->st.read);
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	rtn_progress_done(&prog, rtn_reader_offset(r), agg->st.read);
	ca_finish(agg);
	int64_t asof = a.ca.have_asof ? a.ca.asof_day : agg->max_t == INT64_MIN ? 0 : ca_day(agg, agg->max_t);
	rfm_result res;
	rfm_compute(&res, agg, &a.rfm, asof, a.ca.recent_start_day);
	res.no_asof = !a.ca.have_asof && agg->max_t == INT64_MIN;
	if (bout)
		write_breaks(bout, &res);
	if (a.summary) {
		rfm_summary(rtn_out_file(out), &res);
		rtn_out_commit(out);
	} else {
		rtn_header *oh = rfm_header(h, &res, argc, argv);
		rtn_writer *w = rtn_writer_open_out(out, oh, a.level);
		rfm_write(w, &res);
		rtn_writer_close(w);
		rtn_header_free(oh);
	}
	if (a.stats)
		rfm_stats(stderr, &res);
	ca_free(agg);
	seg_rules_free(a.rules);
	stage_rules_free((stage_rules *)a.rfm.stages);
	free(a.breaks_text);
	tz_free(a.ca.tz);
	rtn_reader_close(r);
	return rtn_close_stdout();
}
