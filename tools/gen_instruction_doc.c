/*
 * gen_instruction_doc.c — the instruction table of docs/language.md, printed
 * from ecl_opcode_table so that the documentation cannot drift from the VM.
 *
 *   gen_instruction_doc                 print the table (markdown)
 *   gen_instruction_doc --update FILE   rewrite the region between the markers
 *   gen_instruction_doc --check FILE    exit 1 when that region differs
 *
 * Only the text between "<!-- BEGIN GENERATED: instruction table -->" and
 * "<!-- END GENERATED: instruction table -->" is ever touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecl/opcodes.h"

#define BEGIN_MARK "<!-- BEGIN GENERATED: instruction table -->"
#define END_MARK "<!-- END GENERATED: instruction table -->"

typedef struct text
{
	char	   *data;
	size_t		len;
	size_t		cap;
} text;

static void
put(text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap)
	{
		t->cap = (t->len + n + 1) * 2;
		t->data = realloc(t->data, t->cap);
		if (t->data == NULL)
		{
			perror("realloc");
			exit(2);
		}
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void
puts_text(text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* markdown table cells: escape '|' */
static void
put_cell(text *t, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '|')
			puts_text(t, "\\|");
		else
			put(t, s, 1);
	}
}

static void
stack_effect(const ecl_opcode_info *info, int op, char *buf, size_t size)
{
	char		pops[16];

	if (info->pop >= 0)
		snprintf(pops, sizeof(pops), "%d", info->pop);
	else
		snprintf(pops, sizeof(pops), "%s", op == ECL_OP_MAKE_OBJECT ? "2n" : "n");
	if (info->flags & ECL_F_TERM)
		snprintf(buf, size, "%s → end", pops);
	else
		snprintf(buf, size, "%s → %d", pops, info->push);
	if ((info->flags & ECL_F_BRANCH) && info->jpush != 0)
		snprintf(buf + strlen(buf), size - strlen(buf), " (jump: %d)", info->jpush);
	if (op == ECL_OP_JUMP)
		snprintf(buf, size, "0 → 0");
}

static void
build_table(text *t)
{
	puts_text(t, "| Opcode | Operand | Gas | Layer | Stack | Description |\n");
	puts_text(t, "|---|---|---:|---|---|---|\n");
	for (int op = 0; op < ECL_OP_COUNT; op++)
	{
		const ecl_opcode_info *info = &ecl_opcode_table[op];
		char		cell[64];

		puts_text(t, "| `");
		puts_text(t, info->name);
		puts_text(t, "` | ");
		puts_text(t, ecl_operand_kind_names[info->operand]);
		snprintf(cell, sizeof(cell), " | %u | %s | ", info->gas, ecl_layer_names[info->layer]);
		puts_text(t, cell);
		stack_effect(info, op, cell, sizeof(cell));
		puts_text(t, cell);
		puts_text(t, " | ");
		put_cell(t, info->doc);
		if (info->flags & (ECL_F_HOST | ECL_F_WRITE))
		{
			puts_text(t, " *(");
			puts_text(t, info->flags & ECL_F_WRITE ? "host call, write: refused when read-only" : "host call");
			puts_text(t, ")*");
		}
		puts_text(t, " |\n");
	}
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	text		t = {0};
	char		buf[8192];
	size_t		n;

	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		put(&t, buf, n);
	fclose(f);
	if (t.data == NULL)
		put(&t, "", 0);
	*len = t.len;
	return t.data;
}

int
main(int argc, char **argv)
{
	text		table = {0};
	const char *mode = argc > 1 ? argv[1] : NULL;
	const char *path = argc > 2 ? argv[2] : NULL;
	char	   *doc;
	size_t		len;
	char	   *begin,
			   *end,
			   *region;
	text		out = {0};

	build_table(&table);
	if (mode == NULL)
	{
		fputs(table.data, stdout);
		return 0;
	}
	if (path == NULL || (strcmp(mode, "--update") != 0 && strcmp(mode, "--check") != 0))
	{
		fprintf(stderr, "usage: %s [--update|--check FILE]\n", argv[0]);
		return 2;
	}
	doc = read_file(path, &len);
	begin = strstr(doc, BEGIN_MARK);
	end = begin ? strstr(begin, END_MARK) : NULL;
	if (begin == NULL || end == NULL)
	{
		fprintf(stderr, "%s: markers \"%s\" ... \"%s\" not found\n", path, BEGIN_MARK, END_MARK);
		return 2;
	}
	region = begin + strlen(BEGIN_MARK);
	put(&out, doc, (size_t) (region - doc));
	puts_text(&out, "\n");
	puts_text(&out, table.data);
	put(&out, end, len - (size_t) (end - doc));

	if (strcmp(mode, "--check") == 0)
	{
		if (out.len != len || memcmp(out.data, doc, len) != 0)
		{
			fprintf(stderr, "%s: the instruction table is out of date; run make docs\n", path);
			return 1;
		}
		return 0;
	}
	if (out.len == len && memcmp(out.data, doc, len) == 0)
		return 0;
	{
		char		tmp[4096];
		FILE	   *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "wb");
		if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0)
		{
			perror(tmp);
			return 2;
		}
		if (rename(tmp, path) != 0)
		{
			perror(path);
			return 2;
		}
	}
	return 0;
}
