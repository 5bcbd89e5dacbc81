/* SVG charts: see svg.h. Layout is fixed arithmetic on an estimated
 * character width, so no font metrics are needed and output is stable. */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CHAR_W 7.0     /* estimated width of a 12px character */
#define CELL_W 58.0
#define CELL_H 24.0
#define TITLE_H 26.0
#define LEGEND_H 46.0
#define PAD 8.0

void svg_put(svg_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		xgrow((void **)&b->p, &b->cap, b->len + n + 1, 1);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void svg_printf(svg_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		svg_put(b, small, (size_t)n);
		return;
	}
	xgrow((void **)&b->p, &b->cap, b->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void svg_put_escaped(svg_buf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				rep = "\xef\xbf\xbd";
		}
		if (rep) {
			svg_put(b, s + run, i - run);
			svg_put(b, rep, strlen(rep));
			run = i + 1;
		}
	}
	svg_put(b, s + run, n - run);
}

void svg_free(svg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void svg_data_uri(svg_buf *b, const char *svg, size_t n)
{
	static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	svg_put(b, "data:image/svg+xml;base64,", 26);
	xgrow((void **)&b->p, &b->cap, b->len + (n + 2) / 3 * 4 + 1, 1);
	const unsigned char *s = (const unsigned char *)svg;
	char *o = b->p + b->len;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		*o++ = B64[v >> 18];
		*o++ = B64[(v >> 12) & 63];
		*o++ = B64[(v >> 6) & 63];
		*o++ = B64[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
		*o++ = B64[v >> 18];
		*o++ = B64[(v >> 12) & 63];
		*o++ = i + 1 < n ? B64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
}

void svg_begin(svg_buf *b, double width, double height, const char *title, int standalone)
{
	if (standalone)
		svg_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	svg_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
		   ceil(width), ceil(height), ceil(width), ceil(height));
	svg_put(b, "<title>", 7);
	svg_put_escaped(b, title ? title : "", title ? strlen(title) : 0);
	svg_put(b, "</title>\n", 9);
	svg_printf(b, "<style>.t{font-size:14px;font-weight:bold}.l{fill:#333}"
		   ".d{fill:#111}.w{fill:#fff}.ax{stroke:#888;stroke-width:1}"
		   ".g{stroke:#ddd;stroke-width:1}</style>\n");
}

void svg_end(svg_buf *b)
{
	svg_printf(b, "</svg>\n");
}

void svg_text(svg_buf *b, double x, double y, const char *anchor, const char *cls, const char *text)
{
	svg_printf(b, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
	if (anchor && strcmp(anchor, "start") != 0)
		svg_printf(b, " text-anchor=\"%s\"", anchor);
	if (cls)
		svg_printf(b, " class=\"%s\"", cls);
	svg_put(b, ">", 1);
	svg_put_escaped(b, text, strlen(text));
	svg_put(b, "</text>\n", 8);
}

/* Yellow-green-blue, light for low values, dark for high. */
static const unsigned char STOPS[][3] = {
	{0xff, 0xff, 0xd9}, {0xed, 0xf8, 0xb1}, {0xc7, 0xe9, 0xb4}, {0x7f, 0xcd, 0xbb},
	{0x41, 0xb6, 0xc4}, {0x1d, 0x91, 0xc0}, {0x22, 0x5e, 0xa8}, {0x0c, 0x2c, 0x84}};
#define NSTOPS (int)(sizeof STOPS / sizeof STOPS[0])

static void rgb_of(double t, int rgb[3])
{
	if (t != t) {
		rgb[0] = rgb[1] = rgb[2] = 0xee;
		return;
	}
	if (t < 0)
		t = 0;
	if (t > 1)
		t = 1;
	double pos = t * (NSTOPS - 1);
	int i = (int)pos;
	if (i >= NSTOPS - 1)
		i = NSTOPS - 2;
	double f = pos - i;
	for (int k = 0; k < 3; k++)
		rgb[k] = (int)lround(STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k]));
}

void svg_color(double t, char out[8])
{
	int c[3];
	rgb_of(t, c);
	snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

int svg_color_dark_text(double t)
{
	return t != t || t < 0.55;
}

int svg_color_ansi256(double t)
{
	int c[3], q[3];
	rgb_of(t, c);
	for (int k = 0; k < 3; k++) {
		/* cube levels 0, 95, 135, 175, 215, 255 */
		int v = c[k];
		q[k] = v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40;
		if (q[k] > 5)
			q[k] = 5;
	}
	return 16 + 36 * q[0] + 6 * q[1] + q[2];
}

void svg_series_color(int i, char out[8])
{
	/* Okabe-Ito, distinguishable with colour-vision deficiencies */
	static const char *const PAL[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
					  "#56b4e9", "#d55e00", "#f0e442", "#000000"};
	snprintf(out, 8, "%s", PAL[(i < 0 ? 0 : i) % 8]);
}

/* ---- heatmap ---- */

static double label_width(const char *const *labels, int n, const char *extra)
{
	size_t w = extra ? strlen(extra) : 0;
	for (int i = 0; i < n; i++)
		if (labels[i] && strlen(labels[i]) > w)
			w = strlen(labels[i]);
	return (double)w * CHAR_W + 2 * PAD;
}

static double cell_width(const svg_heatmap *h)
{
	size_t w = 0;
	for (int i = 0; i < h->ncols; i++)
		if (h->col_labels[i] && strlen(h->col_labels[i]) > w)
			w = strlen(h->col_labels[i]);
	if (h->cell_text)
		for (int i = 0; i < h->nrows * h->ncols; i++)
			if (h->cell_text[i] && strlen(h->cell_text[i]) > w)
				w = strlen(h->cell_text[i]);
	double cw = (double)w * CHAR_W + PAD;
	return cw > CELL_W ? cw : CELL_W;
}

void svg_heatmap_size(const svg_heatmap *h, double *width, double *height)
{
	double lw = label_width(h->row_labels, h->nrows, h->corner);
	double w = lw + h->ncols * cell_width(h) + PAD;
	double legend_w = 10 * 24.0 + lw + 2 * PAD + 120;
	double title_w = h->title ? strlen(h->title) * 8.0 + 2 * PAD : 0;
	if (w < legend_w)
		w = legend_w;
	if (w < title_w)
		w = title_w;
	*width = w;
	*height = (h->title ? TITLE_H : 0) + CELL_H * (h->nrows + 1) + LEGEND_H + PAD;
}

static void fmt_tick(double v, int percent, char *buf, size_t n)
{
	if (percent)
		snprintf(buf, n, "%.0f%%", v * 100);
	else if (fabs(v) >= 1000 || v == floor(v))
		snprintf(buf, n, "%.0f", v);
	else
		snprintf(buf, n, "%.2f", v);
}

static double scale01(double v, double lo, double hi)
{
	if (v != v)
		return v;
	return hi > lo ? (v - lo) / (hi - lo) : 1.0;
}

void svg_heatmap_draw(svg_buf *b, const svg_heatmap *h, double x, double y)
{
	double lw = label_width(h->row_labels, h->nrows, h->corner);
	double cw = cell_width(h);
	char col[8];
	svg_printf(b, "<g transform=\"translate(%.1f,%.1f)\">\n", x, y);
	double top = 0;
	if (h->title) {
		svg_text(b, PAD, 18, NULL, "t", h->title);
		top = TITLE_H;
	}
	if (h->corner)
		svg_text(b, PAD, top + 16, NULL, "l", h->corner);
	for (int c = 0; c < h->ncols; c++)
		svg_text(b, lw + c * cw + cw / 2, top + 16, "middle", "l", h->col_labels[c]);
	for (int r = 0; r < h->nrows; r++) {
		double ry = top + CELL_H * (r + 1);
		svg_text(b, PAD, ry + 16, NULL, "l", h->row_labels[r]);
		for (int c = 0; c < h->ncols; c++) {
			double v = h->values[r * h->ncols + c];
			const char *txt = h->cell_text ? h->cell_text[r * h->ncols + c] : NULL;
			double t = scale01(v, h->vmin, h->vmax);
			if (v != v && !(txt && *txt))
				continue;
			svg_color(t, col);
			svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
				   lw + c * cw, ry, cw - 1, CELL_H - 1, col);
			if (txt && *txt) {
				svg_put(b, "<title>", 7);
				svg_put_escaped(b, h->row_labels[r], strlen(h->row_labels[r]));
				svg_put(b, " / ", 3);
				svg_put_escaped(b, h->col_labels[c], strlen(h->col_labels[c]));
				svg_put(b, ": ", 2);
				svg_put_escaped(b, txt, strlen(txt));
				svg_put(b, "</title>", 8);
			}
			svg_put(b, "</rect>\n", 8);
			if (txt && *txt)
				svg_text(b, lw + c * cw + cw / 2, ry + 16, "middle",
					 svg_color_dark_text(t) ? "d" : "w", txt);
		}
	}
	/* legend: ten steps of the scale with the end values */
	double ly = top + CELL_H * (h->nrows + 1) + 14;
	char lo[32], hi[32];
	fmt_tick(h->vmin, h->legend_percent, lo, sizeof lo);
	fmt_tick(h->vmax, h->legend_percent, hi, sizeof hi);
	if (h->legend_clamped && strlen(hi) + 2 < sizeof hi)
		strcat(hi, "+");
	svg_text(b, PAD, ly + 12, NULL, "l", h->legend_label ? h->legend_label : "scale");
	double lx = lw;
	svg_text(b, lx - 4, ly + 12, "end", "l", lo);
	for (int i = 0; i < 10; i++) {
		svg_color((i + 0.5) / 10.0, col);
		svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"16\" fill=\"%s\"/>\n",
			   lx + i * 24.0, ly, col);
	}
	svg_text(b, lx + 244, ly + 12, NULL, "l", hi);
	svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"16\" fill=\"#eeeeee\" "
		   "stroke=\"#ccc\"/>\n", lx + 244 + 8 * (double)strlen(hi) + 16, ly);
	svg_text(b, lx + 244 + 8 * (double)strlen(hi) + 36, ly + 12, NULL, "l", "- not observable yet");
	svg_printf(b, "</g>\n");
}

/* ---- axes shared by bars and curves ---- */

static double nice_step(double range)
{
	if (!(range > 0))
		return 1;
	double raw = range / 5, p = pow(10, floor(log10(raw)));
	double m = raw / p;
	return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

static void y_axis(svg_buf *b, double x0, double y0, double w, double h, double lo, double hi,
		   int percent)
{
	double step = nice_step(hi - lo);
	for (double v = ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
		double py = y0 + h - (v - lo) / (hi - lo) * h;
		char t[32];
		fmt_tick(fabs(v) < step * 1e-9 ? 0 : v, percent, t, sizeof t);
		svg_printf(b, "<line class=\"g\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			   x0, py, x0 + w, py);
		svg_text(b, x0 - 4, py + 4, "end", "l", t);
	}
	svg_printf(b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0, y0,
		   x0, y0 + h);
	svg_printf(b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x0,
		   y0 + h, x0 + w, y0 + h);
}

void svg_bars_draw(svg_buf *b, const svg_bars *c, double x, double y)
{
	double lo = 0, hi = 0;
	for (int i = 0; i < c->n; i++)
		if (c->values[i] == c->values[i]) {
			if (c->values[i] > hi)
				hi = c->values[i];
			if (c->values[i] < lo)
				lo = c->values[i];
		}
	if (hi <= lo)
		hi = lo + 1;
	double ml = 56, mt = c->title ? TITLE_H : PAD, mb = 28;
	double pw = c->width - ml - PAD, ph = c->height - mt - mb;
	svg_printf(b, "<g transform=\"translate(%.1f,%.1f)\">\n", x, y);
	if (c->title)
		svg_text(b, PAD, 18, NULL, "t", c->title);
	y_axis(b, ml, mt, pw, ph, lo, hi, c->percent);
	double bw = c->n ? pw / c->n : pw;
	int every = c->n > 0 ? (int)ceil(c->n * 40.0 / (pw > 1 ? pw : 1)) : 1;
	char col[8];
	svg_color(0.75, col);
	for (int i = 0; i < c->n; i++) {
		double v = c->values[i];
		if (v == v) {
			double y1 = mt + ph - (fmax(v, 0) - lo) / (hi - lo) * ph;
			double y2 = mt + ph - (fmin(v, 0) - lo) / (hi - lo) * ph;
			svg_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				   "fill=\"%s\"><title>", ml + i * bw + 1, y1, bw > 3 ? bw - 2 : bw, y2 - y1, col);
			char t[64];
			fmt_tick(v, c->percent, t, sizeof t);
			svg_put_escaped(b, c->labels[i], strlen(c->labels[i]));
			svg_printf(b, ": %s</title></rect>\n", t);
		}
		if (every < 1 || i % every == 0)
			svg_text(b, ml + i * bw + bw / 2, mt + ph + 16, "middle", "l", c->labels[i]);
	}
	svg_printf(b, "</g>\n");
}

void svg_curve_draw(svg_buf *b, const svg_chart *c, double x, double y)
{
	double xlo = INFINITY, xhi = -INFINITY, ylo = c->ymin, yhi = c->ymax;
	int auto_y = !(c->ymax > c->ymin);
	if (auto_y) {
		ylo = INFINITY;
		yhi = -INFINITY;
	}
	for (int s = 0; s < c->nseries; s++)
		for (int i = 0; i < c->series[s].n; i++) {
			double xv = c->series[s].x[i], yv = c->series[s].y[i];
			xlo = fmin(xlo, xv);
			xhi = fmax(xhi, xv);
			if (auto_y && yv == yv) {
				ylo = fmin(ylo, yv);
				yhi = fmax(yhi, yv);
			}
		}
	if (!(xhi > xlo)) {
		xlo = isfinite(xlo) ? xlo : 0;
		xhi = xlo + 1;
	}
	if (!(yhi > ylo)) {
		ylo = isfinite(ylo) ? ylo : 0;
		yhi = ylo + 1;
	}
	double ml = 56, mt = c->title ? TITLE_H : PAD, mb = 40, legend_w = 0;
	for (int s = 0; s < c->nseries; s++)
		if (c->series[s].name && strlen(c->series[s].name) * CHAR_W + 30 > legend_w)
			legend_w = strlen(c->series[s].name) * CHAR_W + 30;
	double pw = c->width - ml - PAD - legend_w, ph = c->height - mt - mb;
	svg_printf(b, "<g transform=\"translate(%.1f,%.1f)\">\n", x, y);
	if (c->title)
		svg_text(b, PAD, 18, NULL, "t", c->title);
	y_axis(b, ml, mt, pw, ph, ylo, yhi, c->percent);
	double step = nice_step(xhi - xlo);
	if (step < 1)
		step = 1;
	for (double v = ceil(xlo / step) * step; v <= xhi + 1e-9; v += step) {
		char t[32];
		fmt_tick(v, 0, t, sizeof t);
		svg_text(b, ml + (v - xlo) / (xhi - xlo) * pw, mt + ph + 16, "middle", "l", t);
	}
	if (c->xlabel)
		svg_text(b, ml + pw / 2, mt + ph + 34, "middle", "l", c->xlabel);
	if (c->ylabel)
	{
		svg_printf(b, "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
			   "text-anchor=\"middle\" class=\"l\">", mt + ph / 2, mt + ph / 2);
		svg_put_escaped(b, c->ylabel, strlen(c->ylabel));
		svg_put(b, "</text>\n", 8);
	}
	for (int s = 0; s < c->nseries; s++) {
		const svg_series *sr = &c->series[s];
		char col[8];
		svg_series_color(s, col);
		svg_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
		double px = 0, py = 0;
		int have = 0;
		for (int i = 0; i < sr->n; i++) {
			if (sr->y[i] != sr->y[i])
				continue;
			double nx = ml + (sr->x[i] - xlo) / (xhi - xlo) * pw;
			double ny = mt + ph - (sr->y[i] - ylo) / (yhi - ylo) * ph;
			if (sr->step && have)
				svg_printf(b, "%.1f,%.1f ", nx, py);
			svg_printf(b, "%.1f,%.1f ", nx, ny);
			px = nx;
			py = ny;
			have = 1;
		}
		(void)px;
		svg_printf(b, "\"/>\n");
		if (sr->name) {
			double ly = mt + 8 + s * 18;
			svg_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				   "stroke-width=\"3\"/>\n", ml + pw + 8, ly, ml + pw + 24, ly, col);
			svg_text(b, ml + pw + 28, ly + 4, NULL, "l", sr->name);
		}
	}
	svg_printf(b, "</g>\n");
}
