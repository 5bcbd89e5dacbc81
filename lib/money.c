/* Exact fixed-point money parsing, formatting and arithmetic; see money.h. */
#include "money.h"

#include <string.h>

/* INT64_MIN is the stream's null value, so the range is symmetric. */
#define MONEY_LIMIT ((uint64_t)INT64_MAX)

static int isd(char c)
{
	return c >= '0' && c <= '9';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int fail(const char **reason, int code, const char *why)
{
	if (reason)
		*reason = why;
	return code;
}

/* Length of a currency marker at s[0..n) (from the front, or, with back,
 * ending at s[n]), 0 if none. Symbols: $ € £ ¥ ￥, US$, R$, ISO codes. */
static size_t currency_len(const char *s, size_t n, int back)
{
	static const char *const syms[] = {
		"US$", "R$", "$", "\xe2\x82\xac", "\xc2\xa3", "\xc2\xa5", "\xef\xbf\xa5",
		"USD", "EUR", "GBP", "JPY", "CNY", "RMB", "CHF", "CAD", "AUD", "NZD", "HKD",
		"SGD", "SEK", "NOK", "DKK", "INR", "KRW", "BRL", "MXN", "ZAR", "PLN", "CZK"
	};
	size_t i;

	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		size_t k = strlen(syms[i]);

		if (k <= n && memcmp(back ? s + n - k : s, syms[i], k) == 0)
			return k;
	}
	return 0;
}

/* A space-like thousands separator at s[i..n): ' ', U+00A0, U+202F. */
static size_t space_sep(const char *s, size_t n, size_t i)
{
	if (s[i] == ' ')
		return 1;
	if (n - i >= 2 && (unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] == 0xa0)
		return 2;
	if (n - i >= 3 && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] == 0xaf)
		return 3;
	return 0;
}

static int is_word(const char *s, size_t n, const char *w)
{
	size_t i, k = strlen(w);

	if (n != k)
		return 0;
	for (i = 0; i < k; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return 0;
	return 1;
}

/* Explains a character that stops the number. */
static int bad_char(const char *s, size_t n, size_t i, const money_opts *o, const char **reason)
{
	char c = s[i];
	char dec = o->decimal_comma ? ',' : '.';
	size_t k;

	if ((c == 'e' || c == 'E') && i + 1 < n &&
	    (isd(s[i + 1]) || ((s[i + 1] == '+' || s[i + 1] == '-') && i + 2 < n && isd(s[i + 2]))))
		return fail(reason, MONEY_ERR_SYNTAX, "exponent notation not accepted");
	if ((c == 'x' || c == 'X') && i == 1 && s[0] == '0')
		return fail(reason, MONEY_ERR_SYNTAX, "hexadecimal not accepted");
	if ((c == ',' || c == '.') && c != dec && c != o->thousands) {
		for (k = i + 1; k < n && isd(s[k]); k++)
			;
		if (k - i - 1 == 3)
			return fail(reason, MONEY_ERR_OPTION, c == ',' ?
			            "thousands separator ',' found: use --thousands ','" :
			            "thousands separator '.' found: use --thousands '.' (with --decimal-comma)");
		if (c == ',' && k == n && k - i - 1 >= 1)
			return fail(reason, MONEY_ERR_OPTION, "decimal comma found: use --decimal-comma");
		return fail(reason, MONEY_ERR_SYNTAX, c == ',' ? "unexpected ','" : "unexpected '.'");
	}
	if (c == ' ' || (unsigned char)c == 0xc2 || (unsigned char)c == 0xe2) {
		if (space_sep(s, n, i))
			return fail(reason, MONEY_ERR_SYNTAX,
			            "space inside the number (thousands separator? use --thousands ' ')");
	}
	if (currency_len(s + i, n - i, 0) && !o->strip_currency)
		return fail(reason, MONEY_ERR_OPTION, "currency symbol found: use --currency");
	return fail(reason, MONEY_ERR_SYNTAX, "not a number (unexpected characters)");
}

/* Fast path for the common shape [+-]D{1,14}[.D{1,4}] with '.' as the decimal
 * point. Answers only inputs the general path accepts, with the same value:
 * at most 14 integer digits cannot overflow (10^14 * 10^4 < 2^63), such a
 * string has no surrounding blanks, no parenthesis, no currency marker at
 * either end (it starts with a sign or digit and ends with a digit) and no
 * separator, so money_opts only matter through the decimal mark and the
 * "thousands equals decimal point" refusal, which the caller excludes.
 * Returns 1 with *out set, or 0 to leave the input to the general path.
 * tests/unit/test_money_diff.c compares both paths. */
static inline int money_fast(const char *s, size_t n, int64_t *out)
{
	static const uint64_t scale[5] = { 10000, 1000, 100, 10, 1 };
	const char *e = s + n, *p = s, *dig, *dot;
	uint64_t v = 0;
	unsigned c;

	if (n == 0 || n > 20)
		return 0;
	if (*p == '-' || *p == '+')
		p++;
	dig = p;
	while (p < e && (c = (unsigned char)*p - '0') < 10) {
		v = v * 10 + c;
		p++;
	}
	if ((size_t)(p - dig) - 1 > 13)   /* 1..14 integer digits */
		return 0;
	if (p == e) {
		v *= MONEY_SCALE;
	} else {
		if (*p != '.')
			return 0;
		dot = ++p;
		while (p < e && (c = (unsigned char)*p - '0') < 10) {
			v = v * 10 + c;
			p++;
		}
		if (p != e || (size_t)(p - dot) - 1 > 3)   /* 1..4 decimals, then the end */
			return 0;
		v *= scale[p - dot];
	}
	*out = *s == '-' ? -(int64_t)v : (int64_t)v;
	return 1;
}

int money_parse(const char *s, size_t n, const money_opts *opts, int64_t *out,
                const char **reason)
{
	if ((!opts || (!opts->decimal_comma && opts->thousands != '.')) &&
	    money_fast(s, n, out)) {
		if (reason)
			*reason = NULL;
		return MONEY_OK;
	}
	return money_parse_general(s, n, opts, out, reason);
}

int money_parse_general(const char *s, size_t n, const money_opts *opts, int64_t *out,
                        const char **reason)
{
	static const money_opts none;
	const money_opts *o = opts ? opts : &none;
	char dec = o->decimal_comma ? ',' : '.';
	uint64_t ip = 0, v;
	size_t i = 0, k, ndig = 0, group = 0, nfrac = 0;
	int neg = 0, paren = 0, seps = 0, fr = 0;

	while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return fail(reason, MONEY_ERR_EMPTY, "empty amount");
	if (o->thousands == dec)
		return fail(reason, MONEY_ERR_OPTION,
		            "thousands separator equals the decimal point (--thousands '.' needs --decimal-comma)");
	if (s[0] == '(') {
		if (!o->accounting)
			return fail(reason, MONEY_ERR_OPTION,
			            "accounting negative (25.00): use --accounting");
		if (s[n - 1] != ')')
			return fail(reason, MONEY_ERR_SYNTAX, "unbalanced parenthesis");
		paren = 1;
		s++;
		n -= 2;
		while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
			s++, n--;
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
	}
	/* leading: [sign] [currency [space]] [sign] */
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i < n && !isd(s[i]) && s[i] != dec && (k = currency_len(s + i, n - i, 0))) {
		if (!o->strip_currency)
			return fail(reason, MONEY_ERR_OPTION, "currency symbol found: use --currency");
		i += k;
		while (i < n && s[i] == ' ')
			i++;
		if (i < n && (s[i] == '-' || s[i] == '+')) {
			if (i > 0 && (s[0] == '-' || s[0] == '+'))
				return fail(reason, MONEY_ERR_SYNTAX, "two signs");
			neg = s[i++] == '-';
		}
	}
	/* trailing currency */
	if (n > i && !isd(s[n - 1]) && (k = currency_len(s + i, n - i, 1))) {
		if (!o->strip_currency)
			return fail(reason, MONEY_ERR_OPTION, "currency symbol found: use --currency");
		n -= k;
		while (n > i && s[n - 1] == ' ')
			n--;
	}
	if (paren && i > 0 && (s[0] == '-' || s[0] == '+'))
		return fail(reason, MONEY_ERR_SYNTAX, "sign inside parentheses");
	if (i >= n) {
		if (is_word(s, n, "nan") || is_word(s, n, "-nan"))
			return fail(reason, MONEY_ERR_SYNTAX, "not a number (NaN)");
		return fail(reason, MONEY_ERR_SYNTAX, "no digits");
	}
	if (!isd(s[i]) && s[i] != dec) {
		const char *w = s + i;
		size_t wn = n - i;

		if (is_word(w, wn, "nan") || is_word(w, wn, "inf") || is_word(w, wn, "infinity"))
			return fail(reason, MONEY_ERR_SYNTAX, "not a finite number (NaN/inf)");
		return bad_char(s, n, i, o, reason);
	}
	/* integer part, with optional thousands grouping */
	for (; i < n; i++) {
		char c = s[i];

		if (isd(c)) {
			if (ip > MONEY_LIMIT / MONEY_SCALE)
				return fail(reason, MONEY_ERR_OVERFLOW, "amount out of range");
			ip = ip * 10 + (uint64_t)(c - '0');
			ndig++;
			group++;
			continue;
		}
		k = 0;
		if (o->thousands == ' ')
			k = space_sep(s, n, i);
		else if (o->thousands && c == o->thousands)
			k = 1;
		if (k) {
			/* first group 1-3 digits, later groups exactly 3 */
			if (group == 0 || (seps ? group != 3 : group > 3) || i + k >= n ||
			    !isd(s[i + k]))
				return fail(reason, MONEY_ERR_SYNTAX, "misplaced thousands separator");
			seps++;
			group = 0;
			i += k - 1;
			continue;
		}
		break;
	}
	if (seps && group != 3)
		return fail(reason, MONEY_ERR_SYNTAX, "misplaced thousands separator");
	/* fraction */
	v = 0;
	if (i < n && s[i] == dec) {
		for (i++; i < n && isd(s[i]); i++) {
			if (nfrac < MONEY_PLACES)
				v = v * 10 + (uint64_t)(s[i] - '0');
			else if (s[i] != '0')
				return fail(reason, MONEY_ERR_SCALE,
				            "more decimals than the 4-place scale");
			nfrac++;
			fr = 1;
		}
		if (ndig == 0 && !fr)
			return fail(reason, MONEY_ERR_SYNTAX, "no digits");
	} else if (ndig == 0) {
		return fail(reason, MONEY_ERR_SYNTAX, "no digits");
	}
	if (i < n)
		return bad_char(s, n, i, o, reason);
	for (k = nfrac < MONEY_PLACES ? nfrac : MONEY_PLACES; k < MONEY_PLACES; k++)
		v *= 10;
	if (ip > (MONEY_LIMIT - v) / MONEY_SCALE)
		return fail(reason, MONEY_ERR_OVERFLOW, "amount out of range");
	v += ip * MONEY_SCALE;
	*out = (neg || paren) ? -(int64_t)v : (int64_t)v;
	if (reason)
		*reason = NULL;
	return MONEY_OK;
}

size_t money_format(int64_t x, char buf[32])
{
	char tmp[32];
	uint64_t a = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
	uint64_t ip = a / MONEY_SCALE;
	unsigned fr = (unsigned)(a % MONEY_SCALE);
	size_t n = 0, t = 0;
	int places = 4;

	if (x < 0)
		buf[n++] = '-';
	do {
		tmp[t++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (t)
		buf[n++] = tmp[--t];
	buf[n++] = '.';
	while (places > 2 && fr % 10 == 0) {
		fr /= 10;
		places--;
	}
	for (t = (size_t)places; t > 0; t--) {
		buf[n + t - 1] = (char)('0' + fr % 10);
		fr /= 10;
	}
	n += (size_t)places;
	buf[n] = '\0';
	return n;
}

int money_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r) || r == INT64_MIN)
		return MONEY_ERR_OVERFLOW;
	*out = r;
	return MONEY_OK;
}

int money_mul_int(int64_t amount, int64_t count, int64_t *out)
{
	int64_t r;

	if (__builtin_mul_overflow(amount, count, &r) || r == INT64_MIN)
		return MONEY_ERR_OVERFLOW;
	*out = r;
	return MONEY_OK;
}

int money_mul(int64_t amount, int64_t qty, int64_t *out, int *inexact)
{
	__extension__ typedef __int128 i128;
	i128 p = (i128)amount * qty, q, r, a;

	q = p / MONEY_SCALE;
	r = p % MONEY_SCALE;
	a = r < 0 ? -r : r;
	if (a * 2 >= MONEY_SCALE)
		q += p < 0 ? -1 : 1;
	if (q > INT64_MAX || q <= INT64_MIN)
		return MONEY_ERR_OVERFLOW;
	if (inexact)
		*inexact = r != 0;
	*out = (int64_t)q;
	return MONEY_OK;
}

int money_mul_text(int64_t price, const char *qty, size_t n, int64_t *out, int *inexact,
                   const char **reason)
{
	int64_t q;
	int rc = money_parse(qty, n, NULL, &q, reason);

	if (rc != MONEY_OK)
		return rc;
	rc = money_mul(price, q, out, inexact);
	if (rc != MONEY_OK && reason)
		*reason = "amount out of range";
	return rc;
}

int money_div(int64_t total, int64_t count, int64_t *out)
{
	int64_t q, r;
	uint64_t ar;

	if (count <= 0)
		return MONEY_ERR_OVERFLOW;
	q = total / count;
	r = total % count;
	ar = r < 0 ? (uint64_t)0 - (uint64_t)r : (uint64_t)r;
	if (ar >= (uint64_t)count - ar)   /* 2|r| >= count, half away from zero */
		q += total < 0 ? -1 : 1;
	*out = q;
	return MONEY_OK;
}

double money_to_double(int64_t v)
{
	return (double)v / MONEY_SCALE;
}
