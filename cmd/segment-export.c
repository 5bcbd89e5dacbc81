/* segment-export: customers (from rfm or churnscore) to audience files for
 * email, SMS, push, ad and call-list tools; campaigns, control groups,
 * suppression, contact-cost rules and the health overview. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "stream.h"
#include "textout.h"
#include "util.h"

static const char USAGE[] =
	"usage: segment-export [--segment NAMES] [--stage NAMES] [--where EXPR]\n"
	"                      [--top N --by COLUMN] [--fields LIST] [--format csv|tsv|jsonl]\n"
	"                      [--campaign FILE] [--campaign-id ID] [--control P%]\n"
	"                      [--group treatment|control] [--suppress FILE]... [--contact-cost C]\n"
	"                      [--erv-value COLUMN]\n"
	"                      [--summary] [--summary-by LIST] [--split-by COLUMN]\n"
	"                      [--stats] [--progress] [-o FILE|DIR/] [FILE...]\n"
	"Selects customers from a customers stream (rfm, churnscore) and writes them as\n"
	"text for contact tools. FILEs are read in order; none or '-' is standard input.\n"
	"  --segment NAMES     keep these segments (comma-separated; case, blanks, '-', '_'\n"
	"                      and apostrophes do not matter: at-risk = \"At risk\")\n"
	"  --stage NAMES       keep these lifecycle stages (same matching)\n"
	"  --where EXPR        keep records matching EXPR, e.g. \"clv > 100 and (risk = 'high'\n"
	"                      or recency >= 180)\"; see segment-export(1)\n"
	"  --top N             keep the first N after sorting by --by\n"
	"  --by COLUMN         sort by COLUMN, highest first (nulls last, ties by customer)\n"
	"  --fields LIST       output columns (default: customer, email, segment, stage,\n"
	"                      recency, orders, revenue, clv, p_alive, risk where present,\n"
	"                      then the campaign columns)\n"
	"  --format F          csv (default), tsv or jsonl\n"
	"  --campaign FILE     CSV of segment,stage,channel,offer,message rules; adds the\n"
	"                      columns campaign, channel, offer, message; customers no rule\n"
	"                      matches are left out\n"
	"  --campaign-id ID    campaign id (default: the campaign file name without extension)\n"
	"  --control P%        put P percent in a control group (stable hash of campaign id\n"
	"                      and customer id); adds the column group\n"
	"  --group G           write only the treatment or the control group\n"
	"  --suppress FILE     leave out the ids or e-mail addresses listed (repeatable)\n"
	"  --contact-cost C    keep only customers whose expected recovered value\n"
	"                      erv = clv x p_alive exceeds C; adds the column erv\n"
	"  --erv-value COLUMN  money column used for clv in erv (e.g. future_value)\n"
	"  --summary           write the health overview per segment and stage instead\n"
	"  --summary-by LIST   group the overview by these columns (default segment,stage)\n"
	"  --split-by COLUMN   one file per value of COLUMN in the folder -o DIR/\n"
	"  -o FILE|DIR/        output file (atomic, mode 0600; default standard output)\n"
	"  --stats             print counts (read, written, dropped by reason) on stderr\n"
	"  --progress          progress on stderr (automatic when stderr is a terminal)\n"
	"  -h, --help          this help\n"
	"      --version       print the version\n"
	"Exit status: 0 ok, 2 usage or unreadable input, 3 damaged input stream,\n"
	"4 output or system error.\n";

/* Globals, not locals: still reachable (not a leak) when rtn_die exits. */
static audience *au;
static aud_store *store;
static aud_summary *sum;
static rtn_progress progress;

/* rtn_read with a progress line now and then. */
static int read_next(rtn_reader *r, const rtn_value **v)
{
	int rc = rtn_read(r, v);
	if ((rtn_reader_records(r) & 4095) == 0)
		rtn_progress_update(&progress, NULL, rtn_reader_offset(r), rtn_reader_records(r));
	return rc;
}

typedef struct args {
	aud_opts o;
	const char *fields, *by, *split, *summary_by, *out;
	long long top;
	int format, summary, stats, progress;
	char *sup[16];
} args;

static double parse_cost(const char *s)
{
	char *end;
	double c = strtod(s, &end);
	if (end == s || *end || !isfinite(c) || c < 0)
		rtn_die(RTN_EXIT_USAGE, "--contact-cost: '%s' is not an amount of zero or more", s);
	return c;
}

static void parse_args(int argc, char **argv, args *a)
{
	static const struct option opts[] = {
		{"by", required_argument, NULL, 'b'}, {"campaign", required_argument, NULL, 'c'},
		{"campaign-id", required_argument, NULL, 'I'}, {"contact-cost", required_argument, NULL, 'C'},
		{"control", required_argument, NULL, 'P'}, {"erv-value", required_argument, NULL, 'E'},
		{"fields", required_argument, NULL, 'F'},
		{"format", required_argument, NULL, 'f'}, {"group", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'}, {"progress", no_argument, NULL, 'p'},
		{"segment", required_argument, NULL, 's'},
		{"split-by", required_argument, NULL, 'S'}, {"stage", required_argument, NULL, 't'},
		{"stats", no_argument, NULL, 'x'}, {"summary", no_argument, NULL, 'm'},
		{"summary-by", required_argument, NULL, 'M'}, {"suppress", required_argument, NULL, 'u'},
		{"top", required_argument, NULL, 'T'}, {"version", no_argument, NULL, 'V'},
		{"where", required_argument, NULL, 'w'}, {NULL, 0, NULL, 0}};
	int c;
	memset(a, 0, sizeof *a);
	a->o.control_bp = -1;
	a->top = -1;
	a->format = TXT_CSV;
	a->o.suppress = a->sup;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'b': a->by = optarg; break;
		case 'c': a->o.campaign_path = optarg; break;
		case 'I': a->o.campaign_id = optarg; break;
		case 'C': a->o.has_cost = 1; a->o.contact_cost = parse_cost(optarg); break;
		case 'E': a->o.value_col = optarg; break;
		case 'P': a->o.control_bp = aud_parse_percent("--control", optarg); break;
		case 'F': a->fields = optarg; break;
		case 'f':
			if (!(a->format = txt_format_parse(optarg)))
				rtn_die(RTN_EXIT_USAGE, "--format: '%s' is not csv, tsv or jsonl", optarg);
			break;
		case 'g':
			if (strcmp(optarg, "treatment") && strcmp(optarg, "control"))
				rtn_die(RTN_EXIT_USAGE, "--group: '%s' is not treatment or control", optarg);
			a->o.only_group = optarg[0] == 't' ? AUD_TREATMENT : AUD_CONTROL;
			break;
		case 'o': a->out = optarg; break;
		case 's': a->o.segments = optarg; break;
		case 'S': a->split = optarg; break;
		case 't': a->o.stages = optarg; break;
		case 'x': a->stats = 1; break;
		case 'p': a->progress = 1; break;
		case 'm': a->summary = 1; break;
		case 'M': a->summary = 1; a->summary_by = optarg; break;
		case 'u':
			if (a->o.nsuppress == 16)
				rtn_die(RTN_EXIT_USAGE, "--suppress: at most 16 files");
			a->sup[a->o.nsuppress++] = optarg;
			break;
		case 'T': a->top = rtn_parse_ll("--top", optarg, 0, INT64_MAX); break;
		case 'w': a->o.where = optarg; break;
		case 'h': fputs(USAGE, stdout); exit(rtn_close_stdout());
		case 'V': printf("segment-export (retain) %s\n", RETAIN_VERSION); exit(rtn_close_stdout());
		default: fputs(USAGE, stderr); exit(RTN_EXIT_USAGE);
		}
	}
	if (a->top >= 0 && !a->by)
		rtn_die(RTN_EXIT_USAGE, "--top needs --by COLUMN (what 'top' means)");
	if (a->summary && (a->top >= 0 || a->by || a->split || a->fields))
		rtn_die(RTN_EXIT_USAGE, "--summary cannot be combined with --top, --by, --fields or --split-by");
	if (a->split && (!a->out || strcmp(a->out, "-") == 0))
		rtn_die(RTN_EXIT_USAGE, "--split-by needs -o DIR/ (the folder for one file per value)");
}

/* --summary: the overview of the selected customers. */
static void summary(rtn_reader *r, const args *a, txt_out *out)
{
	aud_field by[32];
	int nby = 0;
	char *list = xstrdup(a->summary_by ? a->summary_by : "segment,stage");
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		if (nby < 32 && (a->summary_by || rtn_schema_find(au->schema, tok) >= 0))
			by[nby++] = aud_field_parse(au, aud_intern(au, tok, strlen(tok)), "--summary-by");
	free(list);
	sum = aud_summary_new(au, by, nby);
	const rtn_value *v;
	aud_row row;
	int rc;
	while ((rc = read_next(r, &v)) == RTN_RECORD)
		if (aud_judge(au, v, &row) == AUD_KEEP)
			aud_summary_add(sum, v, &row);
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	aud_summary_write(sum, out);
	aud_summary_free(sum);
}

int main(int argc, char **argv)
{
	args a;
	rtn_init(argv[0]);
	parse_args(argc, argv, &a);
	rtn_reader *r = rtn_reader_open(argv + optind, argc - optind);
	rtn_progress_init(&progress, a.progress, 1, rtn_reader_size(r));
	au = aud_new(&a.o, rtn_reader_header(r));
	const rtn_value *v;
	aud_row row;
	int rc;
	if (a.summary || (a.top < 0 && !a.by && !a.split)) { /* streaming */
		rtn_out *out = rtn_out_open(a.out, 0600);
		txt_out t;
		txt_init(&t, rtn_out_file(out), rtn_out_name(out), a.format);
		t.neutralise = 1;
		if (a.summary) {
			summary(r, &a, &t);
		} else {
			aud_fields(au, a.fields);
			aud_write_header(au, &t);
			while ((rc = read_next(r, &v)) == RTN_RECORD)
				if (aud_judge(au, v, &row) == AUD_KEEP)
					aud_write_row(au, &t, v, &row);
			if (rc != RTN_END)
				rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
		}
		txt_flush(&t);
		txt_free(&t);
		rtn_out_commit(out);
	} else { /* held: --top, --by, --split-by */
		aud_fields(au, a.fields);
		aud_field by, split;
		if (a.by)
			by = aud_field_parse(au, a.by, "--by");
		if (a.split)
			split = aud_field_parse(au, a.split, "--split-by");
		store = aud_store_new(au, a.format, a.by ? &by : NULL, a.split ? &split : NULL);
		while ((rc = read_next(r, &v)) == RTN_RECORD)
			if (aud_judge(au, v, &row) == AUD_KEEP)
				aud_store_add(store, v, &row);
		if (rc != RTN_END)
			rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
		aud_store_finish(store, au, a.top);
		aud_store_write(store, au, a.split ? NULL : a.out, a.split ? a.out : NULL);
		aud_store_free(store);
	}
	rtn_progress_done(&progress, rtn_reader_offset(r), rtn_reader_records(r));
	if (a.stats)
		aud_print_stats(au, stderr);
	aud_free(au);
	rtn_reader_close(r);
	return RTN_EXIT_OK;
}
