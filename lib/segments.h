/* Customer segments from R, F and M: the classic 8-class value model
 * (high/low against the mean) and named segments from score ranges, either
 * the built-in table or a user rule file. */
#ifndef RETAIN_SEGMENTS_H
#define RETAIN_SEGMENTS_H

enum seg_mode { SEG_CLASSIC8 = 1, SEG_NAMED = 2, SEG_FILE = 3 };

/* One rule: inclusive ranges for r, f, m and the score sum (r+f+m). */
typedef struct seg_rule {
	char *name;
	int lo[4], hi[4];   /* 0 = r, 1 = f, 2 = m, 3 = score */
} seg_rule;

typedef struct seg_rules {
	int n;
	seg_rule *rule;
	const char *other;  /* name when no rule matches: "Others" */
} seg_rules;

#define SEG_CLASSIC8_N 8

/* The built-in named segments (for 5 bins), first match wins. */
seg_rules *seg_named_default(void);
/* Reads rules "NAME: r=A-B f=A f=A-B m=A-B score=A-B" (one per line, '#'
 * comments, a missing range matches anything, A and B within 1..bins, score
 * within 3..3*bins). Dies with exit 2 and "FILE:LINE: reason" on errors. */
seg_rules *seg_rules_load(const char *path, int bins);
/* Parses one rule line (without comments); returns 0, or -1 with err set. */
int seg_rule_parse(const char *line, int bins, seg_rule *out, char *err, size_t errlen);
void seg_rules_free(seg_rules *rs);
/* First matching rule's name, else rs->other. */
const char *seg_match(const seg_rules *rs, int r, int f, int m);

/* Classic 8: index from the three high/low flags, names in English
 * ("important-value") or Chinese ("重要价值客户"). */
int seg_classic8_index(int r_high, int f_high, int m_high);
const char *seg_classic8_name(int index, int zh);

#endif
