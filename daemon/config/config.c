/* SPDX-License-Identifier: MIT */
/*
 * daemon/config/config.c: loads INI files with inih into sections of entries that remember their origin.
 *
 * Accepted syntax (one construct per line; lines end in "\n" or "\r\n"):
 *
 *   # comment                a line whose first non-blank character is '#' or ';'
 *   [node.eq]                a section header: 1 to 64 letters, digits, '.', '_' or '-' between
 *                            the brackets, nothing inside but the name; after ']' only blanks
 *                            or a comment
 *   key = value              1 to 64 letters, digits, '_' or '.'; blanks around key and value
 *                            are stripped; the value may be empty and may itself contain '='.
 *                            inih also accepts `key: value` (Python configparser's spelling).
 *   key = value ; comment    an inline comment starts at ';' or '#' preceded by a blank, so
 *                            `ir = a#b.wav` keeps its '#' but `gain = 3 # dB` is "3"
 *
 * Blank lines are ignored; a UTF-8 byte order mark at the start of a file is skipped. Anything
 * else is an error: a line without '=' or ':', a continuation line (an indented line carrying on
 * the previous value — Python configparser allows it, we do not, so that a stray indented word
 * cannot silently change a value), a NUL byte, a line longer than CONF_MAX_LINE bytes (without
 * its line ending). Every key must follow a section header of the same file. There are no
 * quotes and no escapes: a value is the text between '=' and the end of the line or comment.
 *
 * DESIGN: inih splits lines into key and value, strips blanks and comments. It does not give
 * the handler a line number (Debian builds it with INI_HANDLER_LINENO=0) and it truncates
 * section names to 49 bytes, so our reader function — the fgets() inih calls for each line —
 * counts lines, enforces the line limit and handles section headers itself: it validates the
 * header, makes that section current and hands inih an empty line instead. When inih calls the
 * handler for a key, the reader's count is that key's line and the reader's current section is
 * its section. The first error stops everything: the reader reports end of input, the handler
 * returns 0 (inih then stops, as ini_stop_on_first_error is set).
 *
 * Memory: every string (file names, section names, keys, values) lives in an arena of chunks
 * owned by the struct conf; sections and their entries are arrays grown by doubling. A value
 * that is overridden stays in the arena until conf_free(), which is bounded by the input size.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/el-error.h"
#include "common/el-macros.h"
#include "daemon/config/config.h"
#include "daemon/fs/beneath.h"
#include "daemon/config/private.h"

#define CONF_MAX_NAME   64   /* longest section name and key (bytes) */
#define CONF_CHUNK_MIN  8192 /* arena chunk: a typical config file fits in one or two */
#define CONF_NO_SECTION SIZE_MAX

/* The state of one file's parse; the reader and the handler share it. */
struct conf_parser {
	struct conf *conf;
	const char *file;      /* arena copy: the origin of everything from this file */
	const char *pos, *end; /* unread part of the text */
	unsigned line;         /* number of the line last handed to inih */
	size_t section;        /* index of the current section, or CONF_NO_SECTION */
	unsigned *opened_at;   /* owned: per section index, its first header line in this file */
	bool any_section;      /* this file has a section header */
	int error;             /* first error (-errno), 0 while none */
	struct el_error *reterr;
};

/* inih's behaviour is set by process-wide globals in Debian's build; set all we rely on. */
static void conf_ini_setup(void)
{
	static char inline_prefixes[] = ";#";
	static char start_prefixes[] = ";#";
	static bool done;

	if (done)
		return;
	ini_max_line = CONF_MAX_LINE + 3; /* + "\r\n" + NUL, as ini.h asks */
	ini_use_stack = true;             /* the line buffer is sized by ini_max_line */
	ini_allow_multiline = false;
	ini_allow_inline_comments = true; /* only after a blank, see the syntax above */
	ini_inline_comment_prefixes = inline_prefixes;
	ini_start_comment_prefixes = start_prefixes;
	ini_allow_bom = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
	done = true;
}

char *conf_strndup(struct conf *c, const char *s, size_t n)
{
	struct conf_chunk *k = c->chunks;
	char *p;

	if (!k || k->size - k->used < n + 1) {
		size_t size = EL_MAX((size_t)CONF_CHUNK_MIN, n + 1);

		k = malloc(sizeof(*k) + size);
		if (!k)
			return NULL;
		k->next = c->chunks;
		k->used = 0;
		k->size = size;
		c->chunks = k;
	}
	p = k->data + k->used;
	memcpy(p, s, n);
	p[n] = '\0';
	k->used += n + 1;
	return p;
}

struct conf *conf_free(struct conf *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_sections; i++)
		free(c->sections[i].entries);
	free(c->sections);
	free(c->warnings);
	while (c->chunks) {
		struct conf_chunk *next = c->chunks->next;

		free(c->chunks);
		c->chunks = next;
	}
	free(c);
	return NULL;
}

size_t conf_get_n_sections(const struct conf *c)
{
	return c ? c->n_sections : 0;
}

const struct conf_section *conf_get_section(const struct conf *c, size_t i)
{
	return c && i < c->n_sections ? &c->sections[i].pub : NULL;
}

size_t conf_get_n_warnings(const struct conf *c)
{
	return c ? c->n_warnings : 0;
}

const char *conf_get_warning(const struct conf *c, size_t i)
{
	return c && i < c->n_warnings ? c->warnings[i] : NULL;
}

/* Adds a warning; being out of memory for one only loses the warning, never the load. */
static void conf_add_warning(struct conf *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void conf_add_warning(struct conf *c, const char *fmt, ...)
{
	char text[EL_ERROR_MAX];
	const char **a;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	a = realloc(c->warnings, (c->n_warnings + 1) * sizeof(*a));
	if (n < 0 || !a)
		return;
	c->warnings = a;
	a[c->n_warnings] = conf_strndup(c, text, strlen(text));
	if (a[c->n_warnings])
		c->n_warnings++;
}

static size_t conf_find_section_index(const struct conf *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		const char *s = c->sections[i].pub.name;

		if (strncmp(s, name, len) == 0 && s[len] == '\0')
			return i;
	}
	return CONF_NO_SECTION;
}

const struct conf_section *conf_find_section(const struct conf *c, const char *name)
{
	size_t i;

	if (!c || !name)
		return NULL;
	i = conf_find_section_index(c, name, strlen(name));
	return i == CONF_NO_SECTION ? NULL : &c->sections[i].pub;
}

const struct conf_entry *conf_section_find(const struct conf_section *sec, const char *key)
{
	if (!sec || !key)
		return NULL;
	for (size_t i = 0; i < sec->n_entries; i++)
		if (strcmp(sec->entries[i].key, key) == 0)
			return &sec->entries[i];
	return NULL;
}

/*
 * `FILE:LINE: WHAT: reason` into reterr, or `FILE: WHAT: reason` for something a command made
 * (line 0, not read from a file), `FILE:LINE: reason` without a what; `(no WHAT)` when there is
 * no origin at all. Returns code.
 */
static int conf_verror(struct el_error *reterr, int code, const struct conf_origin *o,
		       const char *what, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static int conf_verror(struct el_error *reterr, int code, const struct conf_origin *o,
		       const char *what, const char *fmt, va_list ap)
{
	char reason[EL_ERROR_MAX];

	if (!reterr)
		return code;
	vsnprintf(reason, sizeof(reason), fmt, ap);
	if (!o)
		return el_error_set(reterr, code, "(no %s): %s", what, reason);
	if (!what)
		return el_error_set(reterr, code, "%s:%u: %s", o->file, o->line, reason);
	if (o->line == 0)
		return el_error_set(reterr, code, "%s: %s: %s", o->file, what, reason);
	return el_error_set(reterr, code, "%s:%u: %s: %s", o->file, o->line, what, reason);
}

int conf_error_entry(struct el_error *reterr, int code, const struct conf_entry *e, const char *fmt,
		     ...)
{
	char what[EL_ERROR_MAX] = "entry";
	va_list ap;

	if (e)
		snprintf(what, sizeof(what), "key '%s'", e->key);
	va_start(ap, fmt);
	code = conf_verror(reterr, code, e ? &e->origin : NULL, what, fmt, ap);
	va_end(ap);
	return code;
}

int conf_error_section(struct el_error *reterr, int code, const struct conf_section *s,
		       const char *fmt, ...)
{
	char what[EL_ERROR_MAX] = "section";
	va_list ap;

	if (s)
		snprintf(what, sizeof(what), "[%s]", s->name);
	va_start(ap, fmt);
	code = conf_verror(reterr, code, s ? &s->origin : NULL, what, fmt, ap);
	va_end(ap);
	return code;
}

/* Records the first error of a parse (later ones cannot happen: parsing stops). */
static int conf_parser_fail(struct conf_parser *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int conf_parser_fail(struct conf_parser *p, int code, const char *fmt, ...)
{
	struct conf_origin at = {.file = p->file, .line = p->line};
	va_list ap;

	if (p->error)
		return p->error;
	p->error = code;
	va_start(ap, fmt);
	conf_verror(p->reterr, code, &at, NULL, fmt, ap);
	va_end(ap);
	return code;
}

static int conf_parser_syntax_error(struct conf_parser *p)
{
	return conf_parser_fail(p, -EINVAL, "syntax error: expected '[section]' or 'key = value'");
}

static bool conf_name_valid(const char *s, size_t len, const char *extra)
{
	if (len < 1 || len > CONF_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');

		if (!alnum && (ch == '\0' || !strchr(extra, ch)))
			return false;
	}
	return true;
}

/* Finds or appends the section called name[0..len); 0 with *ret_index set, or an error. */
static int conf_parser_open_section(struct conf_parser *p, const char *name, size_t len,
				    size_t *ret_index)
{
	struct conf *c = p->conf;
	size_t i = conf_find_section_index(c, name, len);
	struct conf_sec *s;

	p->any_section = true;
	if (i != CONF_NO_SECTION) {
		/* Another file reopening it is a drop-in at work; the same file, likely a slip. */
		if (p->opened_at[i])
			conf_add_warning(c,
					 "%s:%u: section [%s] repeats the one at line %u (their "
					 "keys are merged)",
					 p->file, p->line, c->sections[i].pub.name,
					 p->opened_at[i]);
		else
			p->opened_at[i] = p->line;
		*ret_index = i;
		return 0;
	}
	if (c->n_sections == CONF_MAX_SECTIONS)
		return conf_parser_fail(p, -EINVAL, "too many sections (at most %d)",
					CONF_MAX_SECTIONS);
	if (c->n_sections == c->capacity) {
		size_t cap = c->capacity ? 2 * c->capacity : 16;
		struct conf_sec *a = realloc(c->sections, cap * sizeof(*a));

		if (!a)
			return conf_parser_fail(p, -ENOMEM, "out of memory");
		c->sections = a;
		c->capacity = cap;
	}
	s = &c->sections[c->n_sections];
	*s = (struct conf_sec){.pub.origin = {p->file, p->line}};
	s->pub.name = conf_strndup(c, name, len);
	if (!s->pub.name)
		return conf_parser_fail(p, -ENOMEM, "out of memory");
	p->opened_at[c->n_sections] = p->line;
	*ret_index = c->n_sections++;
	return 0;
}

/* line is a "[...]" header (after blanks and BOM). Makes its section current. */
static int conf_parser_section_line(struct conf_parser *p, const char *line)
{
	const char *name = line + 1, *close = strchr(name, ']'), *rest;
	size_t len;

	if (!close)
		return conf_parser_syntax_error(p);
	for (rest = close + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		return conf_parser_syntax_error(p);
	len = (size_t)(close - name);
	if (!conf_name_valid(name, len, "._-"))
		return conf_parser_fail(
			p, -EINVAL, "[%.*s]: invalid section name (letters, digits, '.', '_', '-')",
			(int)len, name);
	return conf_parser_open_section(p, name, len, &p->section);
}

/* Does this line hold a section header? Returns where its '[' is, or NULL. */
static const char *conf_section_start(const char *line, unsigned lineno)
{
	if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	while (isspace((unsigned char)*line))
		line++;
	return *line == '[' ? line : NULL;
}

/* inih's fgets(): hands over the next line of the text, counting lines on the way. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parser *p = stream;
	const char *nl, *header;
	size_t n, len;

	if (p->error || p->pos >= p->end)
		return NULL;
	nl = memchr(p->pos, '\n', (size_t)(p->end - p->pos));
	n = nl ? (size_t)(nl - p->pos) + 1 : (size_t)(p->end - p->pos);
	len = n;
	if (nl) {
		len--;
		if (len > 0 && p->pos[len - 1] == '\r')
			len--;
	}
	p->line++;
	if (len > CONF_MAX_LINE || n + 1 > (size_t)num) {
		conf_parser_fail(p, -EINVAL, "line too long (more than %d bytes)", CONF_MAX_LINE);
		return NULL;
	}
	if (memchr(p->pos, '\0', n)) {
		conf_parser_syntax_error(p);
		return NULL;
	}
	memcpy(str, p->pos, n);
	str[n] = '\0';
	p->pos += n;
	header = conf_section_start(str, p->line);
	if (header) {
		if (conf_parser_section_line(p, header) < 0)
			return NULL;
		strcpy(str, "\n"); /* inih need not know: it would truncate long names */
	}
	return str;
}

/* Sets key = value in section s, overriding an earlier value and origin. */
static int conf_parser_set(struct conf_parser *p, struct conf_sec *s, const char *key,
			   const char *value)
{
	struct conf *c = p->conf;
	struct conf_entry *e = (struct conf_entry *)conf_section_find(&s->pub, key);
	const char *v = conf_strndup(c, value, strlen(value));

	if (!v)
		return conf_parser_fail(p, -ENOMEM, "out of memory");
	if (!e) {
		if (s->pub.n_entries == CONF_MAX_ENTRIES_PER_SECTION)
			return conf_parser_fail(p, -EINVAL, "[%s]: too many keys (at most %d)",
						s->pub.name, CONF_MAX_ENTRIES_PER_SECTION);
		if (s->pub.n_entries == s->capacity) {
			size_t cap = s->capacity ? 2 * s->capacity : 8;
			struct conf_entry *a = realloc(s->entries, cap * sizeof(*a));

			if (!a)
				return conf_parser_fail(p, -ENOMEM, "out of memory");
			s->entries = a;
			s->pub.entries = a;
			s->capacity = cap;
		}
		e = &s->entries[s->pub.n_entries];
		e->key = conf_strndup(c, key, strlen(key));
		if (!e->key)
			return conf_parser_fail(p, -ENOMEM, "out of memory");
		s->pub.n_entries++;
	}
	e->value = v;
	e->origin = (struct conf_origin){p->file, p->line};
	return 0;
}

/* inih's callback for each key = value; nonzero to go on. */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_parser *p = user;

	(void)section; /* inih's idea of the section; the reader keeps the real one */
	if (!name || !value)
		return 1; /* section callbacks and valueless keys: off in conf_ini_setup() */
	if (p->section == CONF_NO_SECTION)
		conf_parser_fail(p, -EINVAL, "key '%s': outside of any [section]", name);
	else if (!conf_name_valid(name, strlen(name), "_."))
		conf_parser_fail(p, -EINVAL, "key '%s': invalid key name", name);
	else
		conf_parser_set(p, &p->conf->sections[p->section], name, value);
	return p->error == 0;
}

/* Parses text[0..len) as the file called name into c. */
static int conf_parse_text(struct conf *c, const char *name, const char *text, size_t len,
			   struct el_error *reterr)
{
	struct conf_parser p = {
		.conf = c,
		.pos = text,
		.end = text + len,
		.section = CONF_NO_SECTION,
		.reterr = reterr,
	};
	int r;

	p.file = conf_strndup(c, name, strlen(name));
	p.opened_at = calloc(CONF_MAX_SECTIONS, sizeof(*p.opened_at));
	if (!p.file || !p.opened_at) {
		free(p.opened_at);
		return el_error_set(reterr, -ENOMEM, "%s: %s", name, strerror(ENOMEM));
	}
	conf_ini_setup();
	r = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	free(p.opened_at);
	if (p.error)
		return p.error;
	if (r == 0 && !p.any_section)
		conf_add_warning(c, "%s: empty file: no [section] in it", name);
	if (r > 0) {
		p.line = (unsigned)r;
		return conf_parser_syntax_error(&p);
	}
	if (r < 0)
		return el_error_set(reterr, -ENOMEM, "%s: %s", name, strerror(ENOMEM));
	return 0;
}

/* Reads the whole file into *ret_text (owned, NUL-terminated) and its length. */
static int conf_read_file(const char *path, const char *const *beneath, char **ret_text,
			  size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *b;
	ssize_t n;
	int r = 0, fd;

	if (!buf)
		return -ENOMEM;
	fd = fs_open_beneath(beneath, path, O_RDONLY | O_NOCTTY);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	for (;;) {
		if (cap - len < 2) {
			b = realloc(buf, cap * 2);
			if (!b) {
				r = -ENOMEM;
				break;
			}
			buf = b;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
out:
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

static int conf_parse_file(struct conf *c, const char *path, const char *const *beneath,
			   struct el_error *reterr)
{
	char *text;
	size_t len;
	int r = conf_read_file(path, beneath, &text, &len);

	if (r < 0)
		return el_error_set(reterr, r, "%s: %s", path, strerror(-r));
	r = conf_parse_text(c, path, text, len, reterr);
	free(text);
	return r;
}

/* scandir() filter: *.conf, not hidden (systemd skips hidden drop-ins too). */
static int conf_dropin_name(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 && strcmp(d->d_name + len - 5, ".conf") == 0;
}

/* Lexical (strcmp) order, not the locale's: the order must not change with LANG. */
static int conf_dropin_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Parses one entry of the drop-in directory if it is a regular file. */
static int conf_parse_dropin(struct conf *c, const char *dir, const char *name,
			     const char *const *beneath, struct el_error *reterr)
{
	struct stat st;
	char *path;
	int r = 0;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return el_error_set(reterr, -ENOMEM, "%s: %s", dir, strerror(ENOMEM));
	if (stat(path, &st) < 0) {
		r = -errno;
		el_error_set(reterr, r, "%s: %s", path, strerror(-r));
	} else if (S_ISREG(st.st_mode))
		r = conf_parse_file(c, path, beneath, reterr);
	free(path);
	return r;
}

/* Parses path.d/ *.conf in lexical order; a missing directory is fine. */
static int conf_parse_dropins(struct conf *c, const char *path, const char *const *beneath,
			      struct el_error *reterr)
{
	struct dirent **names = NULL;
	char *dir;
	int n, r = 0;

	if (asprintf(&dir, "%s.d", path) < 0)
		return el_error_set(reterr, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
	n = scandir(dir, &names, conf_dropin_name, conf_dropin_cmp);
	if (n < 0) {
		r = -errno;
		if (r == -ENOENT || r == -ENOTDIR)
			r = 0;
		else
			el_error_set(reterr, r, "%s: %s", dir, strerror(-r));
		free(dir);
		return r;
	}
	for (int i = 0; i < n; i++) {
		if (r == 0)
			r = conf_parse_dropin(c, dir, names[i]->d_name, beneath, reterr);
		free(names[i]);
	}
	free(names);
	free(dir);
	return r;
}

int conf_load(const char *path, struct conf **ret, struct el_error *reterr)
{
	return conf_load_beneath(path, NULL, ret, reterr);
}

int conf_load_beneath(const char *path, const char *const *beneath, struct conf **ret,
		      struct el_error *reterr)
{
	struct conf *c;
	int r;

	if (!path || !ret)
		return el_error_set(reterr, -EINVAL, "conf_load: %s", strerror(EINVAL));
	c = calloc(1, sizeof(*c));
	if (!c)
		return el_error_set(reterr, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
	r = conf_parse_file(c, path, beneath, reterr);
	if (r == 0)
		r = conf_parse_dropins(c, path, beneath, reterr);
	if (r < 0) {
		conf_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int conf_load_dropins(struct conf *c, const char *path, struct el_error *reterr)
{
	if (!c || !path)
		return el_error_set(reterr, -EINVAL, "conf_load_dropins: %s", strerror(EINVAL));
	return conf_parse_dropins(c, path, NULL, reterr);
}

int conf_load_string(const char *text, const char *name, struct conf **ret, struct el_error *reterr)
{
	struct conf *c;
	int r;

	if (!text || !ret)
		return el_error_set(reterr, -EINVAL, "conf_load_string: %s", strerror(EINVAL));
	if (!name)
		name = "(string)";
	c = calloc(1, sizeof(*c));
	if (!c)
		return el_error_set(reterr, -ENOMEM, "%s: %s", name, strerror(ENOMEM));
	r = conf_parse_text(c, name, text, strlen(text), reterr);
	if (r < 0) {
		conf_free(c);
		return r;
	}
	*ret = c;
	return 0;
}
