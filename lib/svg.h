/* A small SVG chart toolkit for reports: a growable text buffer with XML
 * escaping, a sequential colour scale (also as ANSI 256 colours for
 * terminals), and three charts: heatmap, bars, and line/step curves.
 *
 *	svg_buf b = {0};
 *	svg_heatmap hm = {.title = "Retention", .nrows = 3, .ncols = 4, ...};
 *	double w, h;
 *	svg_heatmap_size(&hm, &w, &h);
 *	svg_begin(&b, w, h, "Retention", 1);     // 1: standalone file
 *	svg_heatmap_draw(&b, &hm, 0, 0);
 *	svg_end(&b);
 *	fwrite(b.p, 1, b.len, f);
 *
 * Charts draw at an offset so several fit in one document (stack them and
 * add up their sizes); with standalone 0 the <svg> element has no XML
 * prolog and can be embedded in HTML. Numbers are printed with "%.1f" and
 * labels are escaped, so the output is byte-identical for equal input and
 * well formed whatever the labels hold. */
#ifndef RETAIN_SVG_H
#define RETAIN_SVG_H

#include <stddef.h>

typedef struct svg_buf {
	char *p;
	size_t len, cap;
} svg_buf;

void svg_printf(svg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void svg_put(svg_buf *b, const char *s, size_t n);
/* Appends s[0..n) with & < > " ' escaped; control bytes other than tab and
 * newline (not allowed in XML 1.0) become U+FFFD. */
void svg_put_escaped(svg_buf *b, const char *s, size_t n);
void svg_free(svg_buf *b);
/* Appends "data:image/svg+xml;base64,..." of svg[0..n): an <img src> that
 * keeps an HTML page self-contained and valid HTML. */
void svg_data_uri(svg_buf *b, const char *svg, size_t n);

/* <svg> with width, height, viewBox, a <title> and the shared styles. */
void svg_begin(svg_buf *b, double width, double height, const char *title, int standalone);
void svg_end(svg_buf *b);
void svg_text(svg_buf *b, double x, double y, const char *anchor, const char *cls, const char *text);

/* Sequential colour scale: t in [0, 1] (clamped; NaN = missing, grey) to
 * "#rrggbb". */
void svg_color(double t, char out[8]);
/* 1 when text on colour t should be dark (light background). */
int svg_color_dark_text(double t);
/* Nearest xterm 256-colour index of colour t (cube 16..231). */
int svg_color_ansi256(double t);

/* Categorical colour i (series of a chart), cycling through eight. */
void svg_series_color(int i, char out[8]);

/* Heatmap: rows down, columns across; values scaled from vmin..vmax. */
typedef struct svg_heatmap {
	const char *title;             /* may be NULL */
	int nrows, ncols;
	const char *const *row_labels; /* nrows */
	const char *const *col_labels; /* ncols */
	const char *corner;            /* text above the row labels, may be NULL */
	const double *values;          /* nrows * ncols, row-major; NaN = no colour */
	const char *const *cell_text;  /* nrows * ncols, NULL entries = empty */
	double vmin, vmax;
	const char *legend_label;      /* e.g. "retention" */
	int legend_percent;            /* legend ticks as percentages */
	int legend_clamped;            /* values above vmax exist: "vmax+" */
} svg_heatmap;
void svg_heatmap_size(const svg_heatmap *h, double *width, double *height);
void svg_heatmap_draw(svg_buf *b, const svg_heatmap *h, double x, double y);

/* Vertical bars, one per label. */
typedef struct svg_bars {
	const char *title;
	int n;
	const char *const *labels;
	const double *values;   /* NaN = no bar */
	double width, height;   /* whole chart */
	int percent;            /* axis ticks as percentages */
} svg_bars;
void svg_bars_draw(svg_buf *b, const svg_bars *c, double x, double y);

/* Line or step curves over a common x axis. */
typedef struct svg_series {
	const char *name;
	int n;
	const double *x, *y;    /* NaN y = gap */
	int step;               /* 1: step curve (survival), 0: straight segments */
} svg_series;
typedef struct svg_chart {
	const char *title, *xlabel, *ylabel;
	double width, height;
	double ymin, ymax;      /* equal: from the data */
	int percent;            /* y ticks as percentages */
	int nseries;
	const svg_series *series;
} svg_chart;
void svg_curve_draw(svg_buf *b, const svg_chart *c, double x, double y);

#endif
