/* churnscore: P(alive), churn risk, expected purchases and spend, lifetime
 * value and early-warning reasons for rfm's customers records. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "churn.h"
#include "stream.h"
#include "timeparse.h"
#include "util.h"

static const char USAGE[] =
	"usage: churnscore [--model bgnbd|pnbd|rule] [--horizon DUR] [--margin M] [--discount D]\n"
	"                  [--bands HIGH,MEDIUM] [--overdue K] [--churn-after DUR] [--min-gap DUR]\n"
	"                  [--thresholds FILE] [--window DUR] [--falling F] [--negative TYPE,...]\n"
	"                  [--params FILE | --params-out FILE] [--holdout EVENTS [--holdout-end DATE]]\n"
	"                  [--stats] [--threads N] [-o FILE] [-u] [--progress] [FILE...]\n"
	"Adds p_alive, risk, exp_purchases, exp_spend, historic_value, future_value, clv,\n"
	"model and reasons to rfm's customers records.\n"
	"  --model M          bgnbd (default), pnbd (Pareto/NBD) or rule (own rhythm, no fit)\n"
	"  --horizon DUR      expected purchases and CLV over DUR (default 52w)\n"
	"  --margin M         share of spend that is profit, 0 to 1 (default 1)\n"
	"  --discount D       annual discount rate (default 0.1)\n"
	"  --bands H,M        risk high below p_alive H, medium below M (default 0.3,0.7)\n"
	"  --overdue K        overdue when recency > K x own mean gap (default 2)\n"
	"  --churn-after DUR  one-time buyers overdue after DUR (default 180d)\n"
	"  --min-gap DUR      floor of the own mean gap (default 7d)\n"
	"  --thresholds FILE  overdue, churn-after, min-gap per group ('by COLUMN' file)\n"
	"  --window DUR       recent refunds and negative events: last DUR (default 30d)\n"
	"  --falling F        rate_falling when recent purchases < F x prior rate (default 0.5)\n"
	"  --negative T,...   event types (rfm --events) that are warning signs\n"
	"  --params FILE      score with saved parameters, no fitting\n"
	"  --params-out FILE  write the fitted parameters, log-likelihood, standard errors\n"
	"  --holdout EVENTS   compare predicted and actual purchases after asof in EVENTS;\n"
	"                     prints a table instead of records\n"
	"  --holdout-end DATE last day of the holdout (default: day of the last purchase)\n"
	"  --stats            print counts and the fit on standard error\n"
	"  --threads N        threads for fitting and scoring, 1 or 2 (default 2 on two or\n"
	"                     more processors); the output is the same for any N\n"
	"  -o FILE            write FILE atomically (default standard output)\n"
	"  -u                 uncompressed blocks in FILE\n"
	"  --progress         show progress on standard error\n"
	"  -h, --help         this help\n"
	"      --version      print the version\n"
	"Exit status: 0 ok, 1 a fit failed, 2 usage or unreadable input, 3 damaged or\n"
	"truncated stream, 4 output error.\n";

typedef struct args {
	churn_opts o;
	const char *out, *params, *params_out, *holdout;
	int64_t holdout_end;
	int stats, level, model_given, progress, threads;
} args;

static rtn_progress prog;

static void tick(rtn_reader *r, const char *phase)
{
	uint64_t n = rtn_reader_records(r);
	if (prog.on && (n & 0xffff) == 0)
		rtn_progress_update(&prog, phase, rtn_reader_offset(r), n);
}

static double num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi))
		rtn_die(RTN_EXIT_USAGE, "%s: '%s' is not a number from %g to %g", opt, s, lo, hi);
	return v;
}

static double days(const char *opt, const char *s)
{
	char err[200];
	double d;
	if (churn_duration_days(s, &d, err, sizeof err) < 0)
		rtn_die(RTN_EXIT_USAGE, "%s: %s", opt, err);
	if (!(d > 0))
		rtn_die(RTN_EXIT_USAGE, "%s: '%s' must be longer than 0", opt, s);
	return d;
}

static void parse_args(int argc, char **argv, args *a)
{
	static const struct option opts[] = {
		{"bands", required_argument, NULL, 'b'}, {"churn-after", required_argument, NULL, 'c'},
		{"discount", required_argument, NULL, 'd'}, {"falling", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'}, {"holdout", required_argument, NULL, 'H'},
		{"holdout-end", required_argument, NULL, 'E'}, {"horizon", required_argument, NULL, 'z'},
		{"margin", required_argument, NULL, 'm'}, {"min-gap", required_argument, NULL, 'g'},
		{"model", required_argument, NULL, 'M'}, {"negative", required_argument, NULL, 'n'},
		{"overdue", required_argument, NULL, 'k'}, {"params", required_argument, NULL, 'p'},
		{"params-out", required_argument, NULL, 'P'}, {"progress", no_argument, NULL, 'R'},
		{"stats", no_argument, NULL, 'S'}, {"threads", required_argument, NULL, 'T'},
		{"thresholds", required_argument, NULL, 't'}, {"version", no_argument, NULL, 'V'},
		{"window", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	char err[200], *end;
	int c;
	while ((c = getopt_long(argc, argv, "ho:u", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			a->o.band_high = strtod(optarg, &end);
			if (end == optarg || *end != ',')
				rtn_die(RTN_EXIT_USAGE, "--bands: '%s' is not HIGH,MEDIUM", optarg);
			a->o.band_medium = num("--bands", end + 1, 0, 1);
			if (!(a->o.band_high >= 0 && a->o.band_high <= a->o.band_medium))
				rtn_die(RTN_EXIT_USAGE, "--bands: want 0 <= HIGH <= MEDIUM <= 1 (got '%s')", optarg);
			break;
		case 'c': a->o.thr.churn_after = days("--churn-after", optarg); break;
		case 'd': a->o.discount = num("--discount", optarg, 0, 10); break;
		case 'E':
			if (time_parse_date(optarg, &a->holdout_end, err, sizeof err) != TIME_OK)
				rtn_die(RTN_EXIT_USAGE, "--holdout-end: %s", err);
			break;
		case 'f': a->o.falling = num("--falling", optarg, 0, 1); break;
		case 'g': a->o.thr.min_gap = days("--min-gap", optarg); break;
		case 'H': a->holdout = optarg; break;
		case 'k': a->o.thr.overdue = num("--overdue", optarg, 1e-6, 1e6); break;
		case 'm': a->o.margin = num("--margin", optarg, 0, 1); break;
		case 'M':
			a->o.model = !strcmp(optarg, "bgnbd") ? CHURN_BGNBD : !strcmp(optarg, "pnbd") ? CHURN_PNBD
				   : !strcmp(optarg, "rule") ? CHURN_RULE : 0;
			if (!a->o.model)
				rtn_die(RTN_EXIT_USAGE, "--model: '%s' is not bgnbd, pnbd or rule", optarg);
			a->model_given = 1;
			break;
		case 'n':
			for (char *tok = strtok(optarg, ","); tok; tok = strtok(NULL, ",")) {
				if (a->o.nneg >= CHURN_MAX_NEG)
					rtn_die(RTN_EXIT_USAGE, "--negative: more than %d types", CHURN_MAX_NEG);
				a->o.neg[a->o.nneg++] = tok;
			}
			break;
		case 'o': a->out = optarg; break;
		case 'p': a->params = optarg; break;
		case 'P': a->params_out = optarg; break;
		case 'R': a->progress = 1; break;
		case 'S': a->stats = 1; break;
		case 't': a->o.rules_path = optarg; break;
		case 'T': a->threads = (int)num("--threads", optarg, 1, 64); break;
		case 'u': a->level = 0; break;
		case 'w': a->o.window_days = days("--window", optarg); break;
		case 'z':
			if ((a->o.horizon_days = days("--horizon", optarg)) > CHURN_MAX_HORIZON)
				rtn_die(RTN_EXIT_USAGE, "--horizon: '%s' is longer than 100 years", optarg);
			break;
		case 'h': fputs(USAGE, stdout); exit(rtn_close_stdout());
		case 'V': printf("churnscore (retain) %s\n", RETAIN_VERSION); exit(rtn_close_stdout());
		default: fputs(USAGE, stderr); exit(RTN_EXIT_USAGE);
		}
	}
	if (a->params && a->o.model == CHURN_RULE)
		rtn_die(RTN_EXIT_USAGE, "--params needs a fitted model, not --model rule");
	if (a->params_out && a->o.model == CHURN_RULE)
		rtn_die(RTN_EXIT_USAGE, "--params-out: the rule model has no parameters");
	if (a->holdout_end != INT64_MIN && !a->holdout)
		rtn_die(RTN_EXIT_USAGE, "--holdout-end needs --holdout");
}

/* Customers records can be read twice when every input is a regular file;
 * otherwise pass 1 copies them to a temporary stream. */
static int rereadable(char **paths, int n)
{
	struct stat st;
	for (int i = 0; i < n; i++)
		if (!strcmp(paths[i], "-") || stat(paths[i], &st) < 0 || !S_ISREG(st.st_mode))
			return 0;
	return n > 0;
}

static void load_params(churn *c, args *a)
{
	FILE *f = rtn_in_open(a->params);
	char text[8192], err[300];
	size_t n = fread(text, 1, sizeof text - 1, f);
	int bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad)
		rtn_die(RTN_EXIT_USAGE, "%s: unreadable or larger than %zu bytes", a->params, sizeof text - 1);
	text[n] = 0;
	churn_params p;
	if (churn_params_parse(text, &p, err, sizeof err) < 0)
		rtn_die(RTN_EXIT_USAGE, "%s:%s", a->params, err);
	if (a->model_given && a->o.model != p.model)
		rtn_die(RTN_EXIT_USAGE, "--model %s, but %s holds %s parameters",
			btyd_model_name(a->o.model), a->params, btyd_model_name(p.model));
	churn_use_params(c, &p, a->params);
}

static void write_params(const churn *c, const char *path)
{
	const churn_params *p = churn_get_params(c);
	if (!p)
		rtn_die(RTN_EXIT_CHECK, "--params-out: no customers, no parameters");
	rtn_out *o = rtn_out_open(path, 0644);
	if (churn_params_write(rtn_out_file(o), p) < 0)
		rtn_die(RTN_EXIT_SYSTEM, "%s: write error", rtn_out_name(o));
	rtn_out_commit(o);
}

/* Pass 1: collects the fitting data, copying the records to a temporary
 * stream when the input cannot be read again. Returns the spill path. */
static char *fit_pass(churn *c, rtn_reader *r, int spill)
{
	char *tmp = NULL;
	rtn_writer *w = NULL;
	FILE *f = NULL;
	if (spill) {
		const char *dir = getenv("TMPDIR");
		size_t n = strlen(dir && *dir ? dir : "/tmp") + 32;
		tmp = xmalloc(n);
		snprintf(tmp, n, "%s/churnscore.XXXXXX", dir && *dir ? dir : "/tmp");
		int fd = mkstemp(tmp);
		if (fd < 0 || !(f = fdopen(fd, "w+")))
			rtn_die(RTN_EXIT_SYSTEM, "%s: cannot create a temporary file (TMPDIR): %s", tmp,
				strerror(errno));
		rtn_temp_register(tmp);
		w = rtn_writer_open_file(f, tmp, rtn_reader_header(r), 0);
	}
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		churn_collect(c, v);
		if (w)
			rtn_write(w, v);
		tick(r, "reading (fit)");
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	if (w) {
		rtn_writer_close(w);
		if (fclose(f) != 0)
			rtn_die(RTN_EXIT_SYSTEM, "%s: write error", tmp);
	}
	churn_fit(c);
	return tmp;
}

static void holdout_pass(churn *c, rtn_reader *r, rtn_out *out)
{
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		churn_holdout_add(c, v);
		tick(r, "holdout");
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	churn_holdout_report(c, rtn_out_file(out));
	rtn_out_commit(out);
}

static void score_pass(churn *c, rtn_reader *r, rtn_out *out, const args *a, int argc, char **argv)
{
	rtn_header *oh = churn_header(c, rtn_reader_header(r), argc, argv);
	rtn_writer *w = rtn_writer_open_out(out, oh, a->level);
	rtn_value *ov = xcalloc((size_t)churn_out_columns(c), sizeof *ov);
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD) {
		churn_score(c, v, ov);
		rtn_write(w, ov);
		tick(r, "scoring");
	}
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	rtn_writer_close(w);
	rtn_header_free(oh);
	free(ov);
}

int main(int argc, char **argv)
{
	args a = {.level = -1, .holdout_end = INT64_MIN};
	rtn_init(argv[0]);
	churn_opts_default(&a.o);
	parse_args(argc, argv, &a);
	btyd_set_threads(a.threads);
	btyd_set_standard_errors(a.params_out != NULL);   /* shown nowhere else */
	char **paths = argv + optind;
	int npaths = argc - optind;
	rtn_out *out = rtn_out_open(a.out, 0644);
	if (!a.holdout && rtn_out_is_stdout(out) && isatty(STDOUT_FILENO))
		rtn_die(RTN_EXIT_USAGE, "refusing to write a binary stream to a terminal (pipe it into inspect, or use -o FILE)");
	rtn_reader *r = rtn_reader_open(paths, npaths);
	rtn_progress_init(&prog, a.progress, 1, rtn_reader_size(r));
	const char *what = npaths == 1 ? rtn_in_name(paths[0]) : npaths ? "the input" : "standard input";
	churn *c = churn_new(&a.o);
	churn_bind(c, rtn_reader_header(r), what);
	if (a.params)
		load_params(c, &a);
	if (a.holdout)
		churn_holdout_load(c, (char *)a.holdout, a.holdout_end);
	char *spill = NULL;
	if (churn_needs_fit(c)) {
		int again = rereadable(paths, npaths);
		spill = fit_pass(c, r, !again);
		rtn_reader_close(r);
		r = again ? rtn_reader_open(paths, npaths) : rtn_reader_open(&spill, 1);
	}
	if (a.params_out)
		write_params(c, a.params_out);
	if (a.holdout)
		holdout_pass(c, r, out);
	else
		score_pass(c, r, out, &a, argc, argv);
	rtn_progress_done(&prog, rtn_reader_offset(r), rtn_reader_records(r));
	rtn_reader_close(r);
	if (spill) {
		unlink(spill);
		rtn_temp_forget(spill);
		free(spill);
	}
	if (a.stats)
		churn_stats(c, stderr);
	churn_free(c);
	return rtn_close_stdout();
}
