/* The list of configuration problems. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config_internal.h"

void config_diags_init(struct config_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void config_diags_free(struct config_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].text);
	free(d->v);
	config_diags_init(d);
}

int config_diags_add(struct config_diags *d, unsigned line, bool warning, char *text)
{
	if (warning)
		d->n_warnings++;
	else
		d->n_errors++;
	if (d->n == CONFIG_DIAGS_MAX) {
		d->dropped++;
		free(text);
		return 0;
	}
	if (!text)
		return -ENOMEM;
	if (d->n % 16 == 0) {
		struct config_diag *v = reallocarray(d->v, d->n + 16, sizeof(*v));
		if (!v) {
			free(text);
			return -ENOMEM;
		}
		d->v = v;
	}
	d->v[d->n++] = (struct config_diag){ line, warning, text };
	return 0;
}

static int cmp_line(const void *x, const void *y)
{
	const struct config_diag *a = x, *b = y;
	return (a->line > b->line) - (a->line < b->line);
}

/* Stable: insertion order is discovery order, which ties must keep. */
void config_diags_sort(struct config_diags *d)
{
	for (size_t i = 1; i < d->n; i++) {
		struct config_diag cur = d->v[i];
		size_t k = i;
		for (; k > 0 && cmp_line(&d->v[k - 1], &cur) > 0; k--)
			d->v[k] = d->v[k - 1];
		d->v[k] = cur;
	}
}

void config_diags_print(const struct config_diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->v[i].text);
	if (d->dropped)
		fprintf(f, "... and %zu more\n", d->dropped);
}
