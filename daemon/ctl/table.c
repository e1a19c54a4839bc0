/* dtlsgwctl: aligned columns for people. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ctl/ctl.h"

static void oom(void)
{
	fputs("dtlsgwctl: out of memory\n", stderr);
	exit(EXIT_CONN);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		oom();
	return p;
}

void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < sizeof(t->right) ? ncols : sizeof(t->right);
}

void table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "-";
		char *copy = strdup(s);
		if (!copy)
			oom();
		/* a cell is one line: control characters from the daemon become '?' */
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		t->cells[t->nrows * t->ncols + c] = copy;
	}
	t->nrows++;
}

/* Display width: UTF-8 code points (continuation bytes do not count). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void table_print(const struct table *t, FILE *f)
{
	size_t w[sizeof(t->right)] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t n = width(t->cells[r * t->ncols + c]);
			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t pad = w[c] - width(s);
			bool last = c + 1 == t->ncols;
			bool right = t->right[c] && !(t->header && r == 0);
			if (right)
				fprintf(f, "%*s", (int)pad, "");
			fputs(s, f);
			if (!right && !last)
				fprintf(f, "%*s", (int)pad, "");
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void kv_row(struct table *t, const char *key, const char *value)
{
	char k[64];
	snprintf(k, sizeof(k), "%s:", key);
	const char *row[2] = { k, value };
	table_add(t, row);
}
