/* ingest: CSV, TSV and JSON Lines order and activity exports into the
 * retain events stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "ingest.h"
#include "util.h"

static const char USAGE[] =
	"usage: ingest [options] [FILE...]\n"
	"Reads CSV, TSV or JSON Lines exports (FILEs in order; none or '-' is standard\n"
	"input) and writes the retain events stream.\n"
	"Input:\n"
	"  --format F           csv, tsv or jsonl (default: by file name, then content)\n"
	"  --delimiter C        one-character separator, 'tab', or 'ws' (runs of blanks)\n"
	"  --no-header          the first line is data; give columns by number\n"
	"Columns (header name or 1-based number; recognised from the header if omitted):\n"
	"  --customer COL       customer id (kept as text: leading zeros stay)\n"
	"  --time COL           time of the event\n"
	"  --amount COL         amount (negative = refund)\n"
	"  --quantity COL --price COL   amount = quantity x unit price\n"
	"  --order COL          order id        --type COL   event type\n"
	"  --attr NAME[,NAME...]  extra columns to keep (NAME or NAME=COL)\n"
	"Values:\n"
	"  --tz ZONE            zone of times without offset (default UTC)\n"
	"  --time-format F      auto (ISO-8601, YYYYMMDD), epoch, epoch-ms, or a\n"
	"                       format such as '%m/%d/%Y %H:%M'\n"
	"  --max-year Y         reject times after year Y (default 2200)\n"
	"  --decimal-comma      12,50 means 12.50\n"
	"  --thousands SEP      accept SEP (',' '.' ' ' or \"'\") between thousands\n"
	"  --currency           strip currency symbols and codes ($, EUR, ...)\n"
	"  --accounting         (25.00) means -25.00\n"
	"  --type-map OLD=NEW[,...]  rename event types\n"
	"Rejects and accounting:\n"
	"  --rejects FILE       write rejected rows (file, line, record, reason, text)\n"
	"  --max-rejects N|P%   exit 1 when more rows are rejected (default 0)\n"
	"  --stats              print read / accepted / rejected / skipped counts\n"
	"  --verbose            say which columns were chosen; show every reject\n"
	"Output:\n"
	"  -o FILE              write FILE atomically (compressed blocks, deflated in\n"
	"                       worker threads; RETAIN_THREADS=1: one thread)\n"
	"  -u                   stored (uncompressed) blocks   --level N   deflate level 1-9\n"
	"  --progress           progress on standard error (automatic on a terminal)\n"
	"  -h, --help           this help      --version   print the version\n"
	"Exit status: 0 ok, 1 too many rejects, 2 usage or unreadable input,\n"
	"4 output error.\n";

enum { O_FORMAT = 256, O_DELIM, O_NOHDR, O_CUST, O_TIME, O_AMOUNT, O_QTY, O_PRICE, O_ORDER,
       O_TYPE, O_ATTR, O_TZ, O_TFMT, O_MAXYEAR, O_DCOMMA, O_THOUS, O_CURR, O_ACCT, O_TMAP,
       O_REJ, O_MAXREJ, O_STATS, O_VERB, O_LEVEL, O_PROG, O_VERSION };

static const struct option OPTS[] = {
	{"accounting", no_argument, NULL, O_ACCT}, {"amount", required_argument, NULL, O_AMOUNT},
	{"attr", required_argument, NULL, O_ATTR}, {"currency", no_argument, NULL, O_CURR},
	{"customer", required_argument, NULL, O_CUST}, {"decimal-comma", no_argument, NULL, O_DCOMMA},
	{"delimiter", required_argument, NULL, O_DELIM}, {"format", required_argument, NULL, O_FORMAT},
	{"help", no_argument, NULL, 'h'}, {"level", required_argument, NULL, O_LEVEL},
	{"max-rejects", required_argument, NULL, O_MAXREJ}, {"max-year", required_argument, NULL, O_MAXYEAR},
	{"no-header", no_argument, NULL, O_NOHDR}, {"order", required_argument, NULL, O_ORDER},
	{"price", required_argument, NULL, O_PRICE}, {"progress", no_argument, NULL, O_PROG},
	{"quantity", required_argument, NULL, O_QTY}, {"rejects", required_argument, NULL, O_REJ},
	{"stats", no_argument, NULL, O_STATS}, {"thousands", required_argument, NULL, O_THOUS},
	{"time", required_argument, NULL, O_TIME}, {"time-format", required_argument, NULL, O_TFMT},
	{"type", required_argument, NULL, O_TYPE}, {"type-map", required_argument, NULL, O_TMAP},
	{"tz", required_argument, NULL, O_TZ}, {"verbose", no_argument, NULL, O_VERB},
	{"version", no_argument, NULL, O_VERSION}, {NULL, 0, NULL, 0}};

static int parse_delim(const char *s)
{
	if (!strcmp(s, "ws") || !strcmp(s, "whitespace"))
		return CSV_DELIM_WHITESPACE;
	if (!strcmp(s, "tab") || !strcmp(s, "\\t"))
		return '\t';
	if (strlen(s) != 1 || *s == '"' || *s == '\n' || *s == '\r')
		rtn_die(RTN_EXIT_USAGE, "--delimiter: '%s' is not one character, 'tab' or 'ws'", s);
	return (unsigned char)*s;
}

static void parse_max_rejects(ingest_opts *o, const char *s)
{
	size_t n = strlen(s);
	if (n > 1 && s[n - 1] == '%') {
		char *end;
		double pct = strtod(s, &end);
		if (end != s + n - 1 || !(pct >= 0 && pct <= 100))
			rtn_die(RTN_EXIT_USAGE, "--max-rejects: '%s' is not a percentage from 0%% to 100%%", s);
		o->max_rejects = (long long)(pct * 1000 + 0.5);
		o->max_rejects_pct = 1;
	} else {
		o->max_rejects = rtn_parse_ll("--max-rejects", s, 0, INT64_MAX);
	}
}

static void add_attrs(ingest_opts *o, const char *list)
{
	char *copy = xstrdup(list), *save = NULL;
	for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		o->attrs = xrealloc(o->attrs, (size_t)(o->nattrs + 1) * sizeof *o->attrs);
		o->attrs[o->nattrs++] = xstrdup(a);
	}
	free(copy);
}

static void parse_args(int argc, char **argv, ingest_opts *o)
{
	int c;
	while ((c = getopt_long(argc, argv, "ho:u", OPTS, NULL)) != -1) {
		switch (c) {
		case O_FORMAT:
			o->format = !strcmp(optarg, "csv") ? 1 : !strcmp(optarg, "tsv") ? 2
				  : !strcmp(optarg, "jsonl") ? 3 : -1;
			if (o->format < 0)
				rtn_die(RTN_EXIT_USAGE, "--format: '%s' is not csv, tsv or jsonl", optarg);
			break;
		case O_DELIM: o->delim = parse_delim(optarg); break;
		case O_NOHDR: o->no_header = 1; break;
		case O_CUST: o->customer = optarg; break;
		case O_TIME: o->time = optarg; break;
		case O_AMOUNT: o->amount = optarg; break;
		case O_QTY: o->quantity = optarg; break;
		case O_PRICE: o->price = optarg; break;
		case O_ORDER: o->order = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_ATTR: add_attrs(o, optarg); break;
		case O_TZ: o->tz = optarg; break;
		case O_TFMT: o->time_format = optarg; break;
		case O_MAXYEAR: o->max_year = (int)rtn_parse_ll("--max-year", optarg, 1, 9999); break;
		case O_DCOMMA: o->decimal_comma = 1; break;
		case O_THOUS:
			if (strlen(optarg) != 1 || !strchr(",. '", *optarg))
				rtn_die(RTN_EXIT_USAGE, "--thousands: '%s' is not one of , . ' or a space", optarg);
			o->thousands = *optarg;
			break;
		case O_CURR: o->currency = 1; break;
		case O_ACCT: o->accounting = 1; break;
		case O_TMAP: o->type_map = optarg; break;
		case O_REJ: o->rejects = optarg; break;
		case O_MAXREJ: parse_max_rejects(o, optarg); break;
		case O_STATS: o->stats = 1; break;
		case O_VERB: o->verbose = 1; break;
		case O_LEVEL: o->level = (int)rtn_parse_ll("--level", optarg, 1, 9); break;
		case O_PROG: o->progress = 1; break;
		case 'o': o->out = optarg; break;
		case 'u': o->level = 0; break;
		case 'h': fputs(USAGE, stdout); exit(rtn_close_stdout());
		case O_VERSION: printf("ingest (retain) %s\n", RETAIN_VERSION); exit(rtn_close_stdout());
		default: fputs(USAGE, stderr); exit(RTN_EXIT_USAGE);
		}
	}
	if (o->decimal_comma && o->thousands == ',')
		rtn_die(RTN_EXIT_USAGE, "--decimal-comma and --thousands ',' cannot both be used");
}

int main(int argc, char **argv)
{
	ingest_opts o;
	rtn_init(argv[0]);
	ingest_opts_init(&o);
	parse_args(argc, argv, &o);
	int rc = ingest_run(&o, argv + optind, argc - optind, argc, argv);
	for (int i = 0; i < o.nattrs; i++)
		free(o.attrs[i]);
	free(o.attrs);
	int rc2 = rtn_close_stdout();
	return rc2 ? rc2 : rc;
}
