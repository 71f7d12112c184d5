/* GNU parallel's replacement strings in a command line, expanded per item into an argv. The
 * rules for {.} {/} {//} {/.} are GNU parallel's, checked against parallel 20221122. */
#include "template.h"

#include <stdlib.h>
#include <string.h>

enum part_kind {
	PART_TEXT,	/* literal bytes of the argument */
	PART_ITEM,	/* {} */
	PART_NOEXT,	/* {.} */
	PART_BASE,	/* {/} */
	PART_DIR,	/* {//} */
	PART_BASENOEXT, /* {/.} */
	PART_SEQ,	/* {#} */
	PART_SLOT,	/* {%} */
};

struct part {
	enum part_kind kind;
	size_t col;	  /* {N}, {N.}...: the value N (1-based); 0: the whole item */
	size_t arg;	  /* which argument it belongs to */
	const char *text; /* PART_TEXT: into the copied argument */
	size_t len;
};

struct template
{
	char **words; /* the copied argv */
	size_t nwords;
	struct part *parts;
	size_t nparts;
	bool placeholders;
	bool values; /* items are values separated by NUL bytes (template_set_values) */
};

static const struct {
	const char *text;
	enum part_kind kind;
} template_strings[] = {
	{"{}", PART_ITEM},	  {"{.}", PART_NOEXT}, {"{/}", PART_BASE}, {"{//}", PART_DIR},
	{"{/.}", PART_BASENOEXT}, {"{#}", PART_SEQ},   {"{%}", PART_SLOT},
};

/* The path forms a {N...} may take after its number, as parallel's {1.} {1/} {1//} {1/.}. */
static const struct {
	const char *text;
	enum part_kind kind;
} template_col_forms[] = {
	{"}", PART_ITEM},  {".}", PART_NOEXT},	    {"/}", PART_BASE},
	{"//}", PART_DIR}, {"/.}", PART_BASENOEXT},
};

/* A {N}, {N.}, {N/}, {N//} or {N/.} at p ("{" then a number from 1 without a leading 0): its
 * length, with its kind and N set; 0 when p holds none. */
static size_t template_col(const char *p, enum part_kind *kind, size_t *col)
{
	size_t i = 1, n = 0;

	if (p[i] < '1' || p[i] > '9')
		return 0;
	for (; p[i] >= '0' && p[i] <= '9'; i++) {
		if (n > 1000000)
			return 0;
		n = n * 10 + (size_t)(p[i] - '0');
	}
	for (size_t k = 0; k < ARRAY_SIZE(template_col_forms); k++) {
		size_t len = strlen(template_col_forms[k].text);
		if (strncmp(p + i, template_col_forms[k].text, len) == 0) {
			*kind = template_col_forms[k].kind;
			*col = n;
			return i + len;
		}
	}
	return 0;
}

static void template_add(struct template *t, size_t *cap, enum part_kind kind, size_t col,
			 size_t arg, const char *text, size_t len)
{
	if (kind == PART_TEXT && len == 0)
		return;
	if (t->nparts == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		t->parts = xrealloc(t->parts, *cap * sizeof(*t->parts));
	}
	t->parts[t->nparts++] =
		(struct part){.kind = kind, .col = col, .arg = arg, .text = text, .len = len};
}

struct template *template_new(char *const *argv)
{
	struct template *t = xcalloc(1, sizeof(*t));
	size_t cap = 0;

	while (argv[t->nwords])
		t->nwords++;
	t->words = xcalloc(t->nwords + 1, sizeof(*t->words));
	for (size_t i = 0; i < t->nwords; i++) {
		char *w = t->words[i] = xstrdup(argv[i]);
		const char *lit = w;
		for (const char *p = w; *p;) {
			size_t k, n = 0, col = 0;
			enum part_kind kind = PART_TEXT;
			for (k = 0; *p == '{' && k < ARRAY_SIZE(template_strings); k++) {
				n = strlen(template_strings[k].text);
				if (strncmp(p, template_strings[k].text, n) == 0) {
					kind = template_strings[k].kind;
					break;
				}
			}
			if (*p == '{' && kind == PART_TEXT)
				n = template_col(p, &kind, &col);
			if (kind == PART_TEXT) {
				p++;
				continue;
			}
			template_add(t, &cap, PART_TEXT, 0, i, lit, (size_t)(p - lit));
			template_add(t, &cap, kind, col, i, NULL, 0);
			t->placeholders = true;
			p += n;
			lit = p;
		}
		template_add(t, &cap, PART_TEXT, 0, i, lit, strlen(lit));
	}
	return t;
}

void template_free(struct template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nwords; i++)
		free(t->words[i]);
	free(t->words);
	free(t->parts);
	free(t);
}

void template_set_values(struct template *t, bool values)
{
	t->values = values;
}

bool template_values(const struct template *t)
{
	return t->values;
}

bool template_has_placeholders(const struct template *t)
{
	return t->placeholders;
}

const char *template_fixed_command(const struct template *t)
{
	for (size_t k = 0; k < t->nparts && t->parts[k].arg == 0; k++)
		if (t->parts[k].kind != PART_TEXT)
			return NULL;
	return t->words[0];
}

/* The length of s[0..len) without its last extension: a '.' followed by anything but '/' and
 * '.' up to the end (GNU parallel's s:\.[^/.]*$::). */
static size_t strip_ext(const char *s, size_t len)
{
	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == '/')
			return len;
		if (s[i - 1] == '.')
			return i - 1;
	}
	return len;
}

/* Where the basename starts: after the last '/' (GNU parallel's s:^.*\/::). */
static size_t base_start(const char *s, size_t len)
{
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == '/')
			return i;
	return 0;
}

/* POSIX dirname, as Perl's File::Basename::dirname that GNU parallel uses. */
static void append_dirname(struct buf *b, const char *s, size_t len)
{
	size_t n = len;
	while (n > 1 && s[n - 1] == '/')
		n--; /* trailing slashes */
	while (n > 0 && s[n - 1] != '/')
		n--; /* the last component */
	if (n == 0) {
		buf_putc(b, '.');
		return;
	}
	while (n > 1 && s[n - 1] == '/')
		n--; /* the slashes before it */
	buf_append(b, s, n);
}

/* Value col (1-based) of an item of values separated by NUL bytes: its length, *v set; past
 * the last value an empty one. */
static size_t template_value(const char *item, size_t len, size_t col, const char **v)
{
	const char *p = item, *end = item + len;

	for (size_t k = 1; k < col; k++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul) {
			*v = end;
			return 0;
		}
		p = nul + 1;
	}
	const char *nul = memchr(p, '\0', (size_t)(end - p));
	*v = p;
	return nul ? (size_t)(nul - p) : (size_t)(end - p);
}

/* A replacement string's form of the string s[0..len). */
static void template_form(const struct part *pt, const char *item, size_t len, uint64_t seq,
			  unsigned slot, struct buf *b)
{
	size_t base;

	switch (pt->kind) {
	case PART_TEXT:
		buf_append(b, pt->text, pt->len);
		return;
	case PART_ITEM:
		buf_append(b, item, len);
		return;
	case PART_NOEXT:
		buf_append(b, item, strip_ext(item, len));
		return;
	case PART_BASE:
		base = base_start(item, len);
		buf_append(b, item + base, len - base);
		return;
	case PART_DIR:
		append_dirname(b, item, len);
		return;
	case PART_BASENOEXT:
		base = base_start(item, len);
		buf_append(b, item + base, strip_ext(item + base, len - base));
		return;
	case PART_SEQ:
		buf_printf(b, "%llu", (unsigned long long)seq);
		return;
	case PART_SLOT:
		buf_printf(b, "%u", slot + 1);
		return;
	}
}

static void template_part_expand(const struct template *t, const struct part *pt, const char *item,
				 size_t len, uint64_t seq, unsigned slot, struct buf *b)
{
	if (pt->col > 0 && t->values) {
		len = template_value(item, len, pt->col, &item);
	} else if (pt->col > 1) {
		len = 0; /* one source: {1} is the item, the others are empty */
	} else if (t->values && pt->kind != PART_TEXT && pt->kind != PART_SEQ &&
		   pt->kind != PART_SLOT && memchr(item, '\0', len)) {
		/* {} of several values: joined with a space, as parallel's. */
		struct buf joined = {0};
		buf_append(&joined, item, len);
		for (size_t i = 0; i < joined.len; i++)
			if (joined.data[i] == '\0')
				joined.data[i] = ' ';
		template_form(pt, joined.data, joined.len, seq, slot, b);
		buf_free(&joined);
		return;
	}
	template_form(pt, item, len, seq, slot, b);
}

void template_expand(const struct template *t, const char *item, size_t len, uint64_t seq,
		     unsigned slot, struct template_args *a)
{
	size_t nvalues = 1;

	if (t->values && !t->placeholders)
		for (size_t i = 0; i < len; i++)
			nvalues += item[i] == '\0';
	size_t argc = t->nwords + (t->placeholders ? 0 : nvalues);

	if (a->cap < argc + 1) {
		a->cap = argc + 1;
		a->offs = xrealloc(a->offs, a->cap * sizeof(*a->offs));
		a->argv = xrealloc(a->argv, a->cap * sizeof(*a->argv));
	}
	buf_reset(&a->bytes);
	size_t k = 0;
	for (size_t i = 0; i < t->nwords; i++) {
		a->offs[i] = a->bytes.len;
		for (; k < t->nparts && t->parts[k].arg == i; k++)
			template_part_expand(t, &t->parts[k], item, len, seq, slot, &a->bytes);
		buf_putc(&a->bytes, '\0');
	}
	if (!t->placeholders) {
		/* Each value its own argument (the item's NULs end them). */
		a->offs[t->nwords] = a->bytes.len;
		buf_append(&a->bytes, item, len);
		buf_putc(&a->bytes, '\0');
		for (size_t i = 0, v = 1; v < nvalues; i++)
			if (a->bytes.data[a->offs[t->nwords] + i] == '\0')
				a->offs[t->nwords + v++] = a->offs[t->nwords] + i + 1;
	}
	/* Pointers last: the buffer may have moved while it grew. */
	for (size_t i = 0; i < argc; i++)
		a->argv[i] = a->bytes.data + a->offs[i];
	a->argv[argc] = NULL;
	a->argc = argc;
}

void template_args_free(struct template_args *a)
{
	buf_free(&a->bytes);
	free(a->offs);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

/* True when sh (or bash) would read w, bare in a command's place, as an assignment or a
 * keyword rather than as the command. */
static bool shell_reads_otherwise(const char *w)
{
	static const char *const keywords[] = {
		"case", "do",	"done",	 "elif",  "else",     "esac",	"fi",	"for",	  "if",
		"in",	"then", "until", "while", "function", "select", "time", "coproc",
	};

	if (strchr(w, '='))
		return true;
	for (size_t k = 0; k < ARRAY_SIZE(keywords); k++)
		if (strcmp(w, keywords[k]) == 0)
			return true;
	return false;
}

void template_quote_argv(struct buf *b, char *const *argv)
{
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_./:=@%+,-";

	for (size_t i = 0; argv[i]; i++) {
		const char *w = argv[i];
		if (i > 0)
			buf_putc(b, ' ');
		if (*w && w[strspn(w, safe)] == '\0' && (i > 0 || !shell_reads_otherwise(w))) {
			buf_append(b, w, strlen(w));
			continue;
		}
		buf_putc(b, '\'');
		for (; *w; w++) {
			if (*w == '\'')
				buf_append(b, "'\\''", 4);
			else
				buf_putc(b, *w);
		}
		buf_putc(b, '\'');
	}
}
