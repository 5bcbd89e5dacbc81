/* synth: synthetic customers and orders from BG/NBD or Pareto/NBD with
 * Gamma-Gamma spend, as CSV for ingest or as an events stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "synth.h"
#include "util.h"

static const char USAGE[] =
	"usage: synth [--model bgnbd|pnbd] [--params K=V,...] [--spend p=..,q=..,gamma=..]\n"
	"             [--channels NAME:WEIGHT[:K=V,...];...] [--customers N] [--seed N]\n"
	"             [--start DATE] [--end DATE] [--asof DATE] [--items MEAN]\n"
	"             [--dup-rate R] [--refund-rate R] [--bad-rate R] [--alias-rate R]\n"
	"             [--alias-file FILE] [--truth FILE] [--format csv|stream] [-u]\n"
	"             [--order customer|time] [--no-header] [--stats] [-o FILE]\n"
	"Simulates customers buying and dropping out, with Gamma-Gamma order values.\n"
	"Model parameters are per WEEK.\n"
	"  --model M          bgnbd (default) or pnbd\n"
	"  --params K=V,...   r,alpha,a,b (bgnbd) or r,alpha,s,beta (pnbd);\n"
	"                     default r=0.243,alpha=4.414,a=0.793,b=2.426 (CDNOW)\n"
	"  --spend K=V,...    Gamma-Gamma p,q,gamma; default p=6.25,q=3.74,gamma=15.44\n"
	"  --channels SPEC    acquisition channels 'NAME:WEIGHT[:K=V,...]' joined by ';',\n"
	"                     each with its own parameter overrides (default: direct)\n"
	"  --customers N      customers to simulate (default 1000)\n"
	"  --seed N           random seed (default 1); equal arguments, equal output\n"
	"  --start, --end D   first purchases spread over these days (default\n"
	"                     2023-01-01 to 2024-12-31)\n"
	"  --asof D           last observed day (default: --end)\n"
	"  --items MEAN       mean line items per order, 1 to 20 (default 1.6)\n"
	"  --dup-rate R       share of rows written twice (default 0)\n"
	"  --refund-rate R    share of orders with a refund of one line (default 0)\n"
	"  --bad-rate R       share of rows with a bad date or amount (csv only)\n"
	"  --alias-rate R     share of customers with a second id on some orders\n"
	"  --alias-file FILE  write the 'alias,customer_id' pairs to FILE\n"
	"  --truth FILE       write each customer's latent traits and x, t_x, T (weeks)\n"
	"  --format F         csv (default: customer_id,order_id,date,amount,channel,sku)\n"
	"                     or stream (events records)\n"
	"  --order O          customer (default: grouped by customer, streamed) or time\n"
	"                     (sorted by time like a shop export; ~60 bytes a row of memory)\n"
	"  -u                 stream: stored blocks even with -o\n"
	"  --no-header        csv without its header line\n"
	"  --stats            print counts on standard error\n"
	"  -o FILE            write FILE atomically instead of standard output\n"
	"  -h, --help         this help\n"
	"      --version      print the version\n"
	"Exit status: 0 ok, 2 usage error, 4 output error.\n";

enum { O_MODEL = 256, O_PARAMS, O_SPEND, O_CHANNELS, O_CUSTOMERS, O_SEED, O_START, O_END, O_ASOF,
       O_ITEMS, O_DUP, O_REFUND, O_BAD, O_ALIAS, O_ALIASFILE, O_TRUTH, O_FORMAT, O_NOHEADER,
       O_STATS, O_VERSION, O_ORDER };

static const struct option opts[] = {
	{"model", required_argument, NULL, O_MODEL}, {"params", required_argument, NULL, O_PARAMS},
	{"spend", required_argument, NULL, O_SPEND}, {"channels", required_argument, NULL, O_CHANNELS},
	{"customers", required_argument, NULL, O_CUSTOMERS}, {"seed", required_argument, NULL, O_SEED},
	{"start", required_argument, NULL, O_START}, {"end", required_argument, NULL, O_END},
	{"asof", required_argument, NULL, O_ASOF}, {"items", required_argument, NULL, O_ITEMS},
	{"dup-rate", required_argument, NULL, O_DUP}, {"refund-rate", required_argument, NULL, O_REFUND},
	{"bad-rate", required_argument, NULL, O_BAD}, {"alias-rate", required_argument, NULL, O_ALIAS},
	{"alias-file", required_argument, NULL, O_ALIASFILE}, {"truth", required_argument, NULL, O_TRUTH},
	{"format", required_argument, NULL, O_FORMAT}, {"no-header", no_argument, NULL, O_NOHEADER},
	{"stats", no_argument, NULL, O_STATS}, {"order", required_argument, NULL, O_ORDER},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0}};

static void need(int rc, const char *opt, const char *err)
{
	if (rc < 0)
		rtn_die(RTN_EXIT_USAGE, "%s: %s", opt, err);
}

/* Paths and switches that are not simulation settings. */
typedef struct files {
	const char *out, *alias, *truth, *params, *spend, *channels;
	int stats, stored;
} files;

/* Applies one option to o and f; returns 0, or 1 when main must stop. */
static int option(int c, synth_opts *o, files *f)
{
	char err[256];
	switch (c) {
	case O_MODEL:
		if (strcmp(optarg, "bgnbd") && strcmp(optarg, "pnbd"))
			rtn_die(RTN_EXIT_USAGE, "--model: '%s' is not bgnbd or pnbd", optarg);
		synth_set_model(o, strcmp(optarg, "pnbd") ? SYNTH_BGNBD : SYNTH_PNBD);
		break;
	case O_PARAMS: f->params = optarg; break;
	case O_SPEND: f->spend = optarg; break;
	case O_CHANNELS: f->channels = optarg; break;
	case O_CUSTOMERS: o->customers = (uint64_t)rtn_parse_ll("--customers", optarg, 1, INT64_C(10000000000)); break;
	case O_SEED: o->seed = (uint64_t)rtn_parse_ll("--seed", optarg, 0, INT64_MAX); break;
	case O_START: need(synth_parse_date(optarg, &o->start_day, err, sizeof err), "--start", err); break;
	case O_END: need(synth_parse_date(optarg, &o->end_day, err, sizeof err), "--end", err); break;
	case O_ASOF: need(synth_parse_date(optarg, &o->asof_day, err, sizeof err), "--asof", err); break;
	case O_ITEMS: o->items = synth_parse_double("--items", optarg, 1, 20); break;
	case O_DUP: o->dup_rate = synth_parse_double("--dup-rate", optarg, 0, 1); break;
	case O_REFUND: o->refund_rate = synth_parse_double("--refund-rate", optarg, 0, 1); break;
	case O_BAD: o->bad_rate = synth_parse_double("--bad-rate", optarg, 0, 1); break;
	case O_ALIAS: o->alias_rate = synth_parse_double("--alias-rate", optarg, 0, 1); break;
	case O_ALIASFILE: f->alias = optarg; break;
	case O_TRUTH: f->truth = optarg; break;
	case O_FORMAT:
		if (strcmp(optarg, "csv") && strcmp(optarg, "stream"))
			rtn_die(RTN_EXIT_USAGE, "--format: '%s' is not csv or stream", optarg);
		o->format = strcmp(optarg, "csv") ? SYNTH_STREAM : SYNTH_CSV;
		break;
	case O_NOHEADER: o->header = 0; break;
	case O_ORDER:
		if (strcmp(optarg, "customer") && strcmp(optarg, "time"))
			rtn_die(RTN_EXIT_USAGE, "--order: '%s' is not customer or time", optarg);
		o->order_time = strcmp(optarg, "time") == 0;
		break;
	case O_STATS: f->stats = 1; break;
	case 'u': f->stored = 1; break;
	case 'o': f->out = optarg; break;
	case 'h': fputs(USAGE, stdout); return 1;
	case O_VERSION: printf("synth (retain) %s\n", RETAIN_VERSION); return 1;
	default: fputs(USAGE, stderr); exit(RTN_EXIT_USAGE);
	}
	return 0;
}

static rtn_out *open_text(const char *path, FILE **f, const char **name)
{
	if (!path)
		return NULL;
	rtn_out *o = rtn_out_open(path, 0644);
	*f = rtn_out_file(o);
	*name = rtn_out_name(o);
	return o;
}

int main(int argc, char **argv)
{
	synth_opts o;
	files f = {0};
	synth_out out = {0};
	synth_stats st;
	char err[256];
	int c;
	rtn_init(argv[0]);
	synth_opts_init(&o);
	while ((c = getopt_long(argc, argv, "ho:u", opts, NULL)) != -1)
		if (option(c, &o, &f))
			return rtn_close_stdout();
	if (optind < argc)
		rtn_die(RTN_EXIT_USAGE, "unexpected argument '%s' (synth reads no input)", argv[optind]);
	/* Parameters apply to the chosen model's defaults and channels start
	 * from them, whatever the option order. */
	if (f.params)
		need(synth_parse_params(f.params, &o.base, err, sizeof err), "--params", err);
	if (f.spend)
		need(synth_parse_params(f.spend, &o.base, err, sizeof err), "--spend", err);
	if (f.channels)
		need(synth_parse_channels(f.channels, &o, err, sizeof err), "--channels", err);
	need(synth_check(&o, err, sizeof err), "synth", err);
	rtn_out *alias = open_text(f.alias, &out.alias, &out.alias_name);
	rtn_out *truth = open_text(f.truth, &out.truth, &out.truth_name);
	rtn_out *csv = NULL;
	rtn_header *h = NULL;
	if (o.format == SYNTH_STREAM) {
		h = synth_events_header(&o, argc, argv);
		out.events = rtn_writer_open(f.out, h, f.stored ? 0 : -1);
	} else {
		csv = open_text(f.out ? f.out : "-", &out.csv, &out.csv_name);
	}
	synth_run(&o, &out, &st);
	if (out.events)
		rtn_writer_close(out.events);
	rtn_header_free(h);
	if (csv)
		rtn_out_commit(csv);
	if (alias)
		rtn_out_commit(alias);
	if (truth)
		rtn_out_commit(truth);
	if (f.stats)
		synth_print_stats(stderr, &st);
	return rtn_close_stdout();
}
