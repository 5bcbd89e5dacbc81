/* inspect: show a retain stream as text, or check its integrity. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "textout.h"
#include "util.h"

static const char USAGE[] =
	"usage: inspect [--header] [--count] [--head N] [--format tsv|csv|jsonl]\n"
	"               [--check] [FILE...]\n"
	"Shows a retain stream as text. FILEs are read in order as one stream;\n"
	"none or '-' reads standard input.\n"
	"  --header         print kind, flags, schema, provenance and metadata\n"
	"  --count          print the number of records\n"
	"  --head N         print only the first N records\n"
	"  --format F       records as tsv (default), csv or jsonl\n"
	"  --no-names       leave out the line of column names (tsv, csv)\n"
	"  --check          verify every CRC and the end of each FILE; print nothing\n"
	"                   but a summary; exit 3 naming the damaged block\n"
	"  -h, --help       this help\n"
	"      --version    print the version\n"
	"Exit status: 0 ok, 2 usage or unreadable input, 3 damaged or truncated\n"
	"stream, 4 output error.\n";

static void print_header(const rtn_header *h)
{
	printf("kind\t%s\n", rtn_kind_name(h->kind));
	printf("version\t%d.%d\n", h->version[0], h->version[1]);
	printf("flags\t%s%s%s%s\n", h->flags ? "" : "-", h->flags & RTN_FLAG_SORTED ? "sorted " : "",
	       h->flags & RTN_FLAG_PARTIAL ? "partial " : "", h->flags & RTN_FLAG_SHARDED ? "sharded" : "");
	if (h->flags & RTN_FLAG_SHARDED)
		printf("shard\t%u of %u\n", h->shard_i, h->shard_n);
	for (int i = 0; i < h->schema.n; i++)
		printf("column\t%s\t%s\n", h->schema.cols[i].name, rtn_type_name(h->schema.cols[i].type));
	for (int i = 0; i < h->nprov; i++)
		printf("program\t%s\n", h->prov[i]);
	for (int i = 0; i < h->nmeta; i++)
		printf("meta\t%s\n", h->meta[i]);
}

/* Reads one file to the end; prints "FILE: ok: ..." or dies with exit 3. */
static void check_file(char *path)
{
	rtn_reader *r = rtn_reader_open(&path, 1);
	const rtn_value *v;
	int rc;
	while ((rc = rtn_read(r, &v)) == RTN_RECORD)
		;
	if (rc != RTN_END)
		rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
	printf("%s: ok: %llu records in %llu blocks\n", rtn_in_name(path),
	       (unsigned long long)rtn_reader_records(r), (unsigned long long)rtn_reader_blocks(r));
	rtn_reader_close(r);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"check", no_argument, NULL, 'c'}, {"count", no_argument, NULL, 'n'},
		{"format", required_argument, NULL, 'f'}, {"head", required_argument, NULL, 'H'},
		{"header", no_argument, NULL, 'e'}, {"help", no_argument, NULL, 'h'},
		{"no-names", no_argument, NULL, 'N'}, {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	int check = 0, count = 0, header = 0, names = 1, format = TXT_TSV, c;
	long long head = -1;
	rtn_init(argv[0]);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': check = 1; break;
		case 'n': count = 1; break;
		case 'e': header = 1; break;
		case 'N': names = 0; break;
		case 'H': head = rtn_parse_ll("--head", optarg, 0, INT64_MAX); break;
		case 'f':
			if (!(format = txt_format_parse(optarg)))
				rtn_die(RTN_EXIT_USAGE, "--format: '%s' is not tsv, csv or jsonl", optarg);
			break;
		case 'h': fputs(USAGE, stdout); return rtn_close_stdout();
		case 'V': printf("inspect (retain) %s\n", RETAIN_VERSION); return rtn_close_stdout();
		default: fputs(USAGE, stderr); return RTN_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	if (check) {
		char *stdin_path = "-";
		for (int i = 0; i < (argc ? argc : 1); i++)
			check_file(argc ? argv[i] : stdin_path);
		return rtn_close_stdout();
	}
	rtn_reader *r = rtn_reader_open(argv, argc);
	const rtn_header *h = rtn_reader_header(r);
	if (header) {
		print_header(h);
		if (!count && head < 0) {
			rtn_reader_close(r);
			return rtn_close_stdout();
		}
	}
	txt_out out;
	txt_init(&out, stdout, "standard output", format);
	int show = !count;
	if (show && names)
		txt_header(&out, &h->schema, NULL, 0);
	const rtn_value *v;
	int rc = RTN_END;
	long long n = 0;
	while ((head < 0 || n < head) && (rc = rtn_read(r, &v)) == RTN_RECORD) {
		if (show)
			txt_record(&out, &h->schema, v, NULL, 0);
		n++;
	}
	if (head < 0 || n < head) {
		if (rc != RTN_END) {
			txt_flush(&out);
			rtn_die(rtn_reader_exit(r), "%s", rtn_reader_error(r));
		}
	}
	if (count)
		printf("%lld\n", n);
	txt_flush(&out);
	txt_free(&out);
	rtn_reader_close(r);
	return rtn_close_stdout();
}
