/* Fuzzing the replacement strings: every argument expands as a plain reading of template.h
 * says, byte for byte (an item through {} comes back whole, NUL bytes and all, in the
 * expanded bytes, and as the argument itself when it holds no NUL); the expanded argv, quoted
 * for the joblog, reads back word for word as a shell reads it; and the arguments are
 * reused from item to item without going stale.
 *
 * The input: byte 0 the number k of template words (0..7, from its low 3 bits; 0 takes a
 * template with every replacement string), byte 1 the slot, byte 2 the sequence number (255:
 * the largest), then k words ended by NUL bytes, then the item (all the rest: NULs too). */
#include "template.h"

#include "fuzz.h"
#include "util.h"

/* Every replacement string once, alone and inside other text, and braces that are none. */
static char *const template_all[] = {
	"cmd",	"{}",	"{.}",	"{/}", "{//}", "{/.}", "{#}", "{%}",
	"<{}>", "{}{}", "{{}}", "{",   "}",    "{x}",  NULL,
};

/* The item through GNU parallel's s:\.[^/.]*$:: ({.}): the length kept. */
static size_t model_noext(const char *s, size_t len)
{
	const char *dot = len ? memrchr(s, '.', len) : NULL;
	const char *slash = len ? memrchr(s, '/', len) : NULL;
	return dot && (!slash || dot > slash) ? (size_t)(dot - s) : len;
}

/* Where s:^.*\/:: ({/}) starts. */
static size_t model_base(const char *s, size_t len)
{
	const char *slash = len ? memrchr(s, '/', len) : NULL;
	return slash ? (size_t)(slash - s) + 1 : 0;
}

/* POSIX dirname ({//}). */
static void model_dirname(struct buf *b, const char *s, size_t len)
{
	size_t n = len;
	while (n > 1 && s[n - 1] == '/')
		n--;
	const char *slash = n ? memrchr(s, '/', n) : NULL;
	if (!slash) {
		buf_putc(b, '.');
		return;
	}
	n = (size_t)(slash - s) + 1;
	while (n > 1 && s[n - 1] == '/')
		n--;
	buf_append(b, s, n);
}

/* The expansion of word w, as template.h describes it; true when w holds a replacement
 * string. */
static bool model_expand(struct buf *b, const char *w, const char *item, size_t len, uint64_t seq,
			 unsigned slot)
{
	bool any = false;
	size_t base = model_base(item, len);

	for (const char *p = w; *p;) {
		if (strncmp(p, "{}", 2) == 0) {
			buf_append(b, item, len);
			p += 2;
		} else if (strncmp(p, "{.}", 3) == 0) {
			buf_append(b, item, model_noext(item, len));
			p += 3;
		} else if (strncmp(p, "{/}", 3) == 0) {
			buf_append(b, item + base, len - base);
			p += 3;
		} else if (strncmp(p, "{//}", 4) == 0) {
			model_dirname(b, item, len);
			p += 4;
		} else if (strncmp(p, "{/.}", 4) == 0) {
			buf_append(b, item + base, model_noext(item + base, len - base));
			p += 4;
		} else if (strncmp(p, "{#}", 3) == 0) {
			buf_printf(b, "%llu", (unsigned long long)seq);
			p += 3;
		} else if (strncmp(p, "{%}", 3) == 0) {
			buf_printf(b, "%u", slot + 1);
			p += 3;
		} else {
			buf_putc(b, *p++);
			continue;
		}
		any = true;
	}
	return any;
}

/* The words that sh (or bash, which GNU parallel's --retry-failed may run the joblog's
 * Command with) reads as a keyword in a command's place, if left bare. */
static bool shell_keyword(const char *w)
{
	static const char *const keywords[] = {
		"case", "do",	"done",	 "elif",  "else",     "esac",	"fi",	"for",	  "if",
		"in",	"then", "until", "while", "function", "select", "time", "coproc", NULL,
	};
	for (const char *const *k = keywords; *k; k++)
		if (strcmp(w, *k) == 0)
			return true;
	return false;
}

/* Read line as sh reads a line of bare words, '...' and \' into words, and check that they
 * are argv's, and that the first one is not an assignment or a keyword to sh. */
static void check_shell_words(const char *line, size_t n, char *const *argv)
{
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789_./:=@%+,-";
	struct buf w = {0};
	size_t i = 0, k = 0;

	FUZZ_CHECK(strlen(line) == n, "a NUL in the quoted line");
	for (;;) {
		bool bare = true;
		buf_reserve(&w, 0); /* so that w.data is a string, "" at least */
		buf_reset(&w);
		while (i < n && line[i] != ' ') {
			if (line[i] == '\'') {
				const char *end = memchr(line + i + 1, '\'', n - i - 1);
				FUZZ_CHECK(end, "an unclosed quote in <%s>", line);
				buf_append(&w, line + i + 1, (size_t)(end - line) - i - 1);
				i = (size_t)(end - line) + 1;
				bare = false;
			} else if (line[i] == '\\') {
				FUZZ_CHECK(i + 1 < n, "a backslash at the end of <%s>", line);
				buf_putc(&w, line[i + 1]);
				i += 2;
				bare = false;
			} else {
				FUZZ_CHECK(memchr(safe, line[i], sizeof(safe) - 1),
					   "'%c' unquoted in <%s>", line[i], line);
				buf_putc(&w, line[i++]);
			}
		}
		FUZZ_CHECK(argv[k], "more words than arguments in <%s>", line);
		FUZZ_CHECK(w.len == strlen(argv[k]) && memcmp(w.data, argv[k], w.len) == 0,
			   "word %zu of <%s> reads as <%s>, not <%s>", k, line, w.data, argv[k]);
		FUZZ_CHECK(k > 0 || !bare || (!strchr(w.data, '=') && !shell_keyword(w.data)),
			   "the command <%s> is bare in <%s>: sh reads an assignment or a keyword",
			   w.data, line);
		k++;
		if (i == n)
			break;
		i++; /* the space between two words */
	}
	FUZZ_CHECK(argv[k] == NULL, "fewer words than arguments in <%s>", line);
	buf_free(&w);
}

static void check_quote(char *const *argv)
{
	struct buf q = {0};

	template_quote_argv(&q, argv);
	FUZZ_CHECK(q.len > 0, "an empty quoted line");
	check_shell_words(q.data, q.len, argv);
	buf_free(&q);
}

/* Expand t for one item into a and compare every argument with the model. */
static void check_expand(const struct template *t, char *const *words, size_t nwords,
			 const char *item, size_t len, uint64_t seq, unsigned slot,
			 struct template_args *a)
{
	struct buf want = {0};
	bool any = false;

	buf_reserve(&want, 0); /* so that want.data is a string, "" at least */
	template_expand(t, item, len, seq, slot, a);
	for (size_t i = 0; i < nwords; i++) {
		buf_reset(&want);
		any |= model_expand(&want, words[i], item, len, seq, slot);
	}
	FUZZ_CHECK(template_has_placeholders(t) == any, "placeholders %d, expected %d",
		   template_has_placeholders(t), any);
	FUZZ_CHECK(a->argc == nwords + !any && a->argv[a->argc] == NULL,
		   "%zu arguments from %zu words", a->argc, nwords);

	for (size_t i = 0; i < a->argc; i++) {
		/* The argument's bytes, NULs of the item included: up to the next argument. */
		size_t end = i + 1 < a->argc ? a->offs[i + 1] : a->bytes.len;
		const char *got = a->bytes.data + a->offs[i];
		size_t got_len = end - a->offs[i] - 1;

		buf_reset(&want);
		if (i < nwords)
			model_expand(&want, words[i], item, len, seq, slot);
		else
			buf_append(&want, item, len); /* no replacement string: the item appended */
		FUZZ_CHECK(a->argv[i] == got && got[got_len] == '\0', "argument %zu misplaced", i);
		FUZZ_CHECK(got_len == want.len && memcmp(got, want.data, want.len) == 0,
			   "argument %zu from <%s> is <%.*s>, expected <%.*s>", i,
			   i < nwords ? words[i] : "", (int)got_len, got, (int)want.len, want.data);
	}
	buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Room for template_all, or for 7 words from the input and the NULL. */
	char *words[MAX(ARRAY_SIZE(template_all), 8)];
	size_t nwords = 0;

	if (size < 3)
		return -1;
	size_t k = data[0] & 7;
	unsigned slot = data[1];
	uint64_t seq = data[2] == 255 ? UINT64_MAX : data[2];
	char *copy = xmalloc(size - 3 + 1);
	memcpy(copy, data + 3, size - 3);
	copy[size - 3] = '\0';

	/* The words, then the item: everything after the k-th NUL. */
	char *p = copy, *end = copy + (size - 3);
	if (k == 0) {
		for (; template_all[nwords]; nwords++)
			words[nwords] = template_all[nwords];
	}
	while (nwords < k && p < end) {
		words[nwords++] = p;
		p += strlen(p) + 1;
	}
	if (nwords == 0)
		words[nwords++] = p; /* argv[0] must exist */
	words[nwords] = NULL;
	const char *item = p < end ? p : end;
	size_t len = (size_t)(end - item);

	struct template *t = template_new(words);
	const char *fixed = template_fixed_command(t);
	struct buf first = {0};
	bool has = model_expand(&first, words[0], "", 0, 1, 0);
	FUZZ_CHECK(has ? fixed == NULL : fixed && strcmp(fixed, words[0]) == 0,
		   "fixed command '%s' of '%s'", fixed ? fixed : "(null)", words[0]);
	buf_free(&first);

	struct template_args a = {0};
	check_expand(t, words, nwords, item, len, seq, slot, &a);
	if (k == 0 && !memchr(item, '\0', len)) {
		/* template_all[1] is "{}": the item itself, byte for byte. */
		FUZZ_CHECK(strlen(a.argv[1]) == len && memcmp(a.argv[1], item, len) == 0,
			   "{} of <%.*s> is <%s>", (int)len, item, a.argv[1]);
	}
	check_quote(a.argv);
	check_quote(words);
	/* The arguments are reused: a shorter item, then this one again. */
	check_expand(t, words, nwords, item, len / 2, seq, slot, &a);
	check_expand(t, words, nwords, item, len, seq + 1, slot, &a);
	template_args_free(&a);
	template_free(t);
	free(copy);
	return 0;
}
