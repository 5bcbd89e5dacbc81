/* Record filter expressions: a recursive-descent parser with bounded
 * nesting, a type check against the schema at parse time, and a small tree
 * evaluator. "and"/"or" chains are stored flat, so evaluation depth is the
 * nesting depth of the text, never its length. */
#include "expr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum cls { C_NUM = 1, C_STR, C_TIME, C_NULL };
enum opnd_kind { O_COL = 1, O_LIT };
enum op { OP_EQ = 1, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum node_kind { N_AND = 1, N_OR, N_NOT, N_CMP, N_IN };

typedef struct operand {
	int kind, cls;
	int col, type;   /* O_COL */
	int scale;       /* numbers: 0 integer, 4 fixed point, -1 only d is exact */
	int64_t i;       /* integer, fixed point or time */
	double d;
	char *s;         /* string literal */
	size_t len;
	size_t pos;      /* 1-based, for messages */
} operand;

typedef struct node {
	int kind, op, negate;
	int n, cap;
	struct node **kids; /* N_AND, N_OR, N_NOT */
	operand a, b;       /* N_CMP */
	operand *list;      /* N_IN */
	int nlist;
} node;

struct expr {
	node *root;
};

/* ---- lexer ---- */

enum tok { T_END, T_LP, T_RP, T_COMMA, T_OP, T_IDENT, T_STR, T_NUM, T_AND, T_OR, T_NOT, T_IN, T_NULL, T_BAD };

typedef struct parser {
	const char *text;
	size_t n, at;         /* at: next unread byte */
	int tok, op;          /* current token */
	size_t tpos, tlen;    /* token start (0-based) and length in text */
	char *sval;           /* string literal or identifier (decoded) */
	size_t slen;
	int depth;
	const rtn_schema *schema;
	char *err;
	size_t errlen;
	int failed;
} parser;

static void fail(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(parser *p, size_t pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	if (!p->err || !p->errlen)
		return;
	int k = snprintf(p->err, p->errlen, "at position %zu: ", pos + 1);
	if (k < 0 || (size_t)k >= p->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
}

static int is_ident0(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_ident(int c) { return is_ident0(c) || is_digit(c) || c == '.'; }

static int word_is(const char *p, size_t n, const char *w)
{
	if (strlen(w) != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != w[i])
			return 0;
	}
	return 1;
}

/* Reads a quoted string starting at p->at (the quote); decodes into sval. */
static void lex_string(parser *p)
{
	char q = p->text[p->at];
	size_t start = p->at++;
	free(p->sval);
	p->sval = xmalloc(p->n - start + 1);
	p->slen = 0;
	for (;;) {
		if (p->at >= p->n) {
			fail(p, start, "unterminated string (opened here)");
			p->tok = T_BAD;
			return;
		}
		char c = p->text[p->at++];
		if (c == '\\' && p->at < p->n) {
			c = p->text[p->at++];
		} else if (c == q) {
			if (p->at < p->n && p->text[p->at] == q) {
				p->at++;
			} else {
				break;
			}
		}
		p->sval[p->slen++] = c;
	}
	p->sval[p->slen] = 0;
	p->tok = T_STR;
}

static void next(parser *p)
{
	const char *t = p->text;
	while (p->at < p->n && (t[p->at] == ' ' || t[p->at] == '\t' || t[p->at] == '\n' || t[p->at] == '\r'))
		p->at++;
	p->tpos = p->at;
	if (p->at >= p->n) {
		p->tok = T_END;
		p->tlen = 0;
		return;
	}
	char c = t[p->at];
	char d = p->at + 1 < p->n ? t[p->at + 1] : 0;
	p->tok = T_OP;
	switch (c) {
	case '(': p->tok = T_LP; p->at++; break;
	case ')': p->tok = T_RP; p->at++; break;
	case ',': p->tok = T_COMMA; p->at++; break;
	case '=': p->op = OP_EQ; p->at += d == '=' ? 2 : 1; break;
	case '!':
		if (d == '=') {
			p->op = OP_NE;
			p->at += 2;
		} else {
			p->tok = T_NOT;
			p->at++;
		}
		break;
	case '<':
		p->op = d == '=' ? OP_LE : d == '>' ? OP_NE : OP_LT;
		p->at += d == '=' || d == '>' ? 2 : 1;
		break;
	case '>': p->op = d == '=' ? OP_GE : OP_GT; p->at += d == '=' ? 2 : 1; break;
	case '&': case '|':
		if (d != c) {
			fail(p, p->at, "'%c' alone is not an operator (use '%c%c' or '%s')", c, c, c, c == '&' ? "and" : "or");
			p->tok = T_BAD;
			return;
		}
		p->tok = c == '&' ? T_AND : T_OR;
		p->at += 2;
		break;
	case '\'': case '"':
		lex_string(p);
		break;
	case '`': {
		const char *end = memchr(t + p->at + 1, '`', p->n - p->at - 1);
		if (!end) {
			fail(p, p->at, "unterminated `column name` (opened here)");
			p->tok = T_BAD;
			return;
		}
		free(p->sval);
		p->slen = (size_t)(end - (t + p->at + 1));
		p->sval = xstrndup(t + p->at + 1, p->slen);
		p->at = (size_t)(end - t) + 1;
		p->tok = T_IDENT;
		break;
	}
	default:
		if (is_digit(c) || ((c == '-' || c == '+' || c == '.') && (is_digit(d) || d == '.'))) {
			size_t s = p->at++;
			while (p->at < p->n && (is_digit(t[p->at]) || t[p->at] == '.' || t[p->at] == 'e' || t[p->at] == 'E' ||
						((t[p->at] == '-' || t[p->at] == '+') && (t[p->at - 1] == 'e' || t[p->at - 1] == 'E'))))
				p->at++;
			if (p->at < p->n && is_ident0(t[p->at])) {
				fail(p, s, "malformed number '%.*s'", (int)(p->at - s + 1), t + s);
				p->tok = T_BAD;
				return;
			}
			free(p->sval);
			p->slen = p->at - s;
			p->sval = xstrndup(t + s, p->slen);
			p->tok = T_NUM;
		} else if (is_ident0(c)) {
			size_t s = p->at;
			while (p->at < p->n && is_ident(t[p->at]))
				p->at++;
			size_t n = p->at - s;
			if (word_is(t + s, n, "and"))
				p->tok = T_AND;
			else if (word_is(t + s, n, "or"))
				p->tok = T_OR;
			else if (word_is(t + s, n, "not"))
				p->tok = T_NOT;
			else if (word_is(t + s, n, "in"))
				p->tok = T_IN;
			else if (word_is(t + s, n, "null"))
				p->tok = T_NULL;
			else {
				free(p->sval);
				p->slen = n;
				p->sval = xstrndup(t + s, n);
				p->tok = T_IDENT;
			}
		} else {
			unsigned char u = (unsigned char)c;
			if (u >= 0x20 && u < 0x7f)
				fail(p, p->at, "unexpected character '%c'", c);
			else
				fail(p, p->at, "unexpected byte 0x%02x", u);
			p->tok = T_BAD;
			return;
		}
	}
	p->tlen = p->at - p->tpos;
}

static const char *tok_desc(const parser *p)
{
	switch (p->tok) {
	case T_END: return "end of expression";
	case T_LP: return "'('";
	case T_RP: return "')'";
	case T_COMMA: return "','";
	case T_OP: return "a comparison operator";
	case T_IDENT: return "a column name";
	case T_STR: return "a string";
	case T_NUM: return "a number";
	case T_AND: return "'and'";
	case T_OR: return "'or'";
	case T_NOT: return "'not'";
	case T_IN: return "'in'";
	case T_NULL: return "'null'";
	default: return "an invalid token";
	}
}

/* ---- literals ---- */

/* Decimal text with at most 4 fraction digits as an exact integer (scale 0
 * without a fraction, else 4); -1 when it is not of that shape or too big. */
static int exact_decimal(const char *s, int64_t *out)
{
	int neg = 0, frac = -1;
	uint64_t v = 0;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!is_digit(*s))
		return -1;
	for (; *s; s++) {
		if (*s == '.') {
			if (frac >= 0)
				return -1;
			frac = 0;
			continue;
		}
		if (!is_digit(*s))
			return -1;
		if (frac >= 0 && ++frac > 4)
			return -1;
		if (v > (UINT64_C(1) << 62) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	int scale = frac < 0 ? 0 : 4;
	for (int k = frac < 0 ? 0 : frac; scale && k < 4; k++) {
		if (v > (UINT64_C(1) << 62) / 10)
			return -1;
		v *= 10;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return scale;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

/* "YYYY-MM-DD", optionally "THH:MM[:SS]" or " HH:MM[:SS]", optionally "Z"; UTC. */
static int parse_time(const char *s, size_t n, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (n < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
		return 0;
	if (y < 1 || mo < 1 || mo > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return 0;
	size_t k = 10;
	if (k < n && (s[k] == 'T' || s[k] == ' ')) {
		if (n < k + 6 || !digits(s + k + 1, 2, &h) || s[k + 3] != ':' || !digits(s + k + 4, 2, &mi))
			return 0;
		k += 6;
		if (k < n && s[k] == ':') {
			if (n < k + 3 || !digits(s + k + 1, 2, &se))
				return 0;
			k += 3;
		}
		if (h > 23 || mi > 59 || se > 60)
			return 0;
	}
	if (k < n && s[k] == 'Z')
		k++;
	if (k != n)
		return 0;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 1;
}

static int type_cls(int type)
{
	return type == RTN_STRING ? C_STR : type == RTN_TIME ? C_TIME : C_NUM;
}

static const char *cls_name(int cls)
{
	return cls == C_STR ? "a string" : cls == C_TIME ? "a time" : cls == C_NULL ? "null" : "a number";
}

/* ---- parser ---- */

static node *parse_or(parser *p);

static node *new_node(int kind)
{
	node *n = xcalloc(1, sizeof *n);
	n->kind = kind;
	return n;
}

static void free_operand(operand *o) { free(o->s); }

static void free_node(node *n)
{
	if (!n)
		return;
	for (int i = 0; i < n->n; i++)
		free_node(n->kids[i]);
	free(n->kids);
	free_operand(&n->a);
	free_operand(&n->b);
	for (int i = 0; i < n->nlist; i++)
		free_operand(&n->list[i]);
	free(n->list);
	free(n);
}

static void add_kid(node *n, node *k)
{
	if (n->n == n->cap) {
		size_t cap = (size_t)n->cap;
		xgrow((void **)&n->kids, &cap, (size_t)n->n + 1, sizeof *n->kids);
		n->cap = (int)cap;
	}
	n->kids[n->n++] = k;
}

/* Reads one operand (current token) and advances. */
static int parse_operand(parser *p, operand *o)
{
	memset(o, 0, sizeof *o);
	o->pos = p->tpos;
	switch (p->tok) {
	case T_IDENT: {
		int c = rtn_schema_find(p->schema, p->sval);
		if (c < 0) {
			char cols[512];
			size_t k = 0;
			cols[0] = 0;
			for (int i = 0; i < p->schema->n && k + 4 < sizeof cols; i++) {
				int w = snprintf(cols + k, sizeof cols - k, "%s%s", i ? ", " : "", p->schema->cols[i].name);
				if (w < 0 || (size_t)w >= sizeof cols - k) {
					snprintf(cols + (k < sizeof cols - 5 ? k : sizeof cols - 5), 5, ", ..");
					break;
				}
				k += (size_t)w;
			}
			fail(p, p->tpos, "unknown column '%s' (columns: %s)", p->sval, cols);
			return 0;
		}
		o->kind = O_COL;
		o->col = c;
		o->type = p->schema->cols[c].type;
		o->cls = type_cls(o->type);
		break;
	}
	case T_NUM: {
		char *end;
		errno = 0;
		o->kind = O_LIT;
		o->cls = C_NUM;
		o->d = strtod(p->sval, &end);
		if (*end || isnan(o->d) || isinf(o->d)) {
			fail(p, p->tpos, "malformed number '%s'", p->sval);
			return 0;
		}
		o->scale = exact_decimal(p->sval, &o->i);
		break;
	}
	case T_STR:
		o->kind = O_LIT;
		o->cls = C_STR;
		o->s = p->sval;
		o->len = p->slen;
		p->sval = NULL;
		break;
	case T_NULL:
		o->kind = O_LIT;
		o->cls = C_NULL;
		break;
	default:
		fail(p, p->tpos, "expected a column, number or string, found %s", tok_desc(p));
		return 0;
	}
	next(p);
	return !p->failed;
}

/* Makes literal o comparable with an operand of class want (strings become
 * times); reports a mismatch at the operator position. */
static int unify(parser *p, operand *a, operand *b, size_t oppos, int op)
{
	if (a->cls == C_NULL || b->cls == C_NULL) {
		if (op != OP_EQ && op != OP_NE) {
			fail(p, oppos, "null can only be compared with = or !=");
			return 0;
		}
		return 1;
	}
	operand *x[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		operand *lit = x[k], *other = x[1 - k];
		if (lit->kind == O_LIT && lit->cls == C_STR && other->cls == C_TIME) {
			if (!parse_time(lit->s, lit->len, &lit->i)) {
				fail(p, lit->pos, "'%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", lit->s);
				return 0;
			}
			lit->cls = C_TIME;
		}
	}
	if (a->cls != b->cls) {
		const operand *col = a->kind == O_COL ? a : b;
		const operand *oth = col == a ? b : a;
		if (col->kind == O_COL)
			fail(p, oppos, "cannot compare %s column '%s' with %s%s", rtn_type_name(col->type),
			     p->schema->cols[col->col].name, cls_name(oth->cls),
			     col->cls == C_STR ? " (quote the value)" : col->cls == C_TIME ? " (write a date as '2023-01-31')" : "");
		else
			fail(p, oppos, "cannot compare %s with %s", cls_name(a->cls), cls_name(b->cls));
		return 0;
	}
	return 1;
}

static node *parse_primary(parser *p)
{
	if (p->tok == T_LP) {
		size_t open = p->tpos;
		if (++p->depth > EXPR_MAX_DEPTH) {
			fail(p, p->tpos, "expression nested deeper than %d levels", EXPR_MAX_DEPTH);
			return NULL;
		}
		next(p);
		node *n = parse_or(p);
		if (!n)
			return NULL;
		if (p->tok != T_RP) {
			fail(p, p->tpos, "expected ')' to close the '(' at position %zu, found %s", open + 1, tok_desc(p));
			free_node(n);
			return NULL;
		}
		p->depth--;
		next(p);
		return n;
	}
	node *n = new_node(N_CMP);
	if (!parse_operand(p, &n->a))
		goto bad;
	int negate = 0;
	if (p->tok == T_NOT) {
		negate = 1;
		next(p);
		if (p->tok != T_IN) {
			fail(p, p->tpos, "expected 'in' after 'not', found %s", tok_desc(p));
			goto bad;
		}
	}
	if (p->tok == T_IN) {
		size_t inpos = p->tpos;
		n->kind = N_IN;
		n->negate = negate;
		next(p);
		if (p->tok != T_LP) {
			fail(p, p->tpos, "expected '(' after 'in', found %s", tok_desc(p));
			goto bad;
		}
		do {
			next(p);
			operand lit;
			if (p->tok == T_IDENT) {
				fail(p, p->tpos, "expected a number or string in the 'in' list, found a column name");
				goto bad;
			}
			if (!parse_operand(p, &lit)) {
				free_operand(&lit);
				goto bad;
			}
			n->nlist++;
			n->list = xrealloc(n->list, (size_t)n->nlist * sizeof *n->list);
			n->list[n->nlist - 1] = lit;
			if (!unify(p, &n->a, &n->list[n->nlist - 1], inpos, OP_EQ))
				goto bad;
		} while (p->tok == T_COMMA);
		if (p->tok != T_RP) {
			fail(p, p->tpos, "expected ',' or ')' in the 'in' list, found %s", tok_desc(p));
			goto bad;
		}
		next(p);
		return n;
	}
	if (p->tok != T_OP) {
		fail(p, p->tpos, "expected a comparison operator (= != < <= > >= in), found %s", tok_desc(p));
		goto bad;
	}
	n->op = p->op;
	size_t oppos = p->tpos;
	next(p);
	if (p->failed || !parse_operand(p, &n->b))
		goto bad;
	if (!unify(p, &n->a, &n->b, oppos, n->op))
		goto bad;
	return n;
bad:
	free_node(n);
	return NULL;
}

static node *parse_not(parser *p)
{
	if (p->tok != T_NOT)
		return parse_primary(p);
	if (++p->depth > EXPR_MAX_DEPTH) {
		fail(p, p->tpos, "expression nested deeper than %d levels", EXPR_MAX_DEPTH);
		return NULL;
	}
	next(p);
	node *k = parse_not(p);
	if (!k)
		return NULL;
	p->depth--;
	node *n = new_node(N_NOT);
	add_kid(n, k);
	return n;
}

/* and-chains and or-chains: one flat node per chain. */
static node *parse_chain(parser *p, int tok, int kind, node *(*sub)(parser *))
{
	node *first = sub(p);
	if (!first || p->tok != tok)
		return first;
	node *n = new_node(kind);
	add_kid(n, first);
	while (p->tok == tok) {
		next(p);
		node *k = p->failed ? NULL : sub(p);
		if (!k) {
			free_node(n);
			return NULL;
		}
		add_kid(n, k);
	}
	return n;
}

static node *parse_and(parser *p) { return parse_chain(p, T_AND, N_AND, parse_not); }
static node *parse_or(parser *p) { return parse_chain(p, T_OR, N_OR, parse_and); }

expr *expr_parse(const char *text, const rtn_schema *s, char *err, size_t errlen)
{
	parser p;
	memset(&p, 0, sizeof p);
	p.text = text;
	p.n = strlen(text);
	p.schema = s;
	p.err = err;
	p.errlen = errlen;
	if (err && errlen)
		err[0] = 0;
	if (p.n > EXPR_MAX_LEN) {
		fail(&p, EXPR_MAX_LEN, "expression longer than %d bytes", EXPR_MAX_LEN);
		return NULL;
	}
	next(&p);
	node *root = NULL;
	if (p.tok == T_END)
		fail(&p, 0, "empty expression");
	else if (!p.failed)
		root = parse_or(&p);
	if (root && !p.failed && p.tok != T_END)
		fail(&p, p.tpos, "unexpected %s after a complete expression%s", tok_desc(&p),
		     p.tok == T_RP ? " (unbalanced ')')" : " (missing 'and' or 'or'?)");
	free(p.sval);
	if (p.failed || !root) {
		free_node(root);
		if (!p.failed)
			fail(&p, p.tpos, "syntax error");
		return NULL;
	}
	expr *e = xmalloc(sizeof *e);
	e->root = root;
	return e;
}

void expr_free(expr *e)
{
	if (!e)
		return;
	free_node(e->root);
	free(e);
}

/* ---- evaluation ---- */

typedef struct val {
	int null, scale;
	int64_t i;
	double d;
	const char *s;
	size_t len;
} val;

static void load(const operand *o, const rtn_value *v, val *out)
{
	memset(out, 0, sizeof *out);
	if (o->kind == O_LIT) {
		out->null = o->cls == C_NULL;
		out->scale = o->scale;
		out->i = o->i;
		out->d = o->d;
		out->s = o->s;
		out->len = o->len;
		return;
	}
	const rtn_value *x = &v[o->col];
	out->null = rtn_value_is_null(x, o->type);
	switch (o->type) {
	case RTN_STRING: out->s = x->s; out->len = x->len; break;
	case RTN_FLOAT: out->d = x->f; out->scale = -1; break;
	case RTN_MONEY: out->i = x->i; out->scale = 4; out->d = (double)x->i / RTN_MONEY_SCALE; break;
	default: out->i = x->i; out->scale = 0; out->d = (double)x->i; break;
	}
}

static int cmp_num(const val *a, const val *b)
{
	if (a->scale >= 0 && b->scale >= 0) {
		int64_t x = a->i, y = b->i;
		int ok = 1;
		if (a->scale < b->scale)
			ok = !__builtin_mul_overflow(x, (int64_t)RTN_MONEY_SCALE, &x);
		else if (b->scale < a->scale)
			ok = !__builtin_mul_overflow(y, (int64_t)RTN_MONEY_SCALE, &y);
		if (ok)
			return (x > y) - (x < y);
	}
	return (a->d > b->d) - (a->d < b->d);
}

static int compare(int cls, const val *a, const val *b)
{
	if (cls == C_STR) {
		size_t n = a->len < b->len ? a->len : b->len;
		int c = n ? memcmp(a->s, b->s, n) : 0;
		if (c)
			return c < 0 ? -1 : 1;
		return (a->len > b->len) - (a->len < b->len);
	}
	if (cls == C_TIME)
		return (a->i > b->i) - (a->i < b->i);
	return cmp_num(a, b);
}

static int eval_cmp(const operand *oa, const operand *ob, int op, const rtn_value *v)
{
	val a, b;
	load(oa, v, &a);
	load(ob, v, &b);
	if (oa->cls == C_NULL || ob->cls == C_NULL) {
		int isnull = oa->cls == C_NULL ? b.null : a.null;
		return op == OP_EQ ? isnull : !isnull;
	}
	if (a.null || b.null)
		return 0;
	int c = compare(oa->cls, &a, &b);
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	default: return c >= 0;
	}
}

static int eval_node(const node *n, const rtn_value *v)
{
	switch (n->kind) {
	case N_AND:
		for (int i = 0; i < n->n; i++)
			if (!eval_node(n->kids[i], v))
				return 0;
		return 1;
	case N_OR:
		for (int i = 0; i < n->n; i++)
			if (eval_node(n->kids[i], v))
				return 1;
		return 0;
	case N_NOT:
		return !eval_node(n->kids[0], v);
	case N_IN: {
		val a;
		load(&n->a, v, &a);
		if (a.null)
			return 0;
		for (int i = 0; i < n->nlist; i++)
			if (eval_cmp(&n->a, &n->list[i], OP_EQ, v))
				return !n->negate;
		return n->negate;
	}
	default:
		return eval_cmp(&n->a, &n->b, n->op, v);
	}
}

int expr_eval(const expr *e, const rtn_value *v)
{
	return eval_node(e->root, v);
}
