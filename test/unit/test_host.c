/*
 * test_host.c — the fixture allocator, host and assembler of test_host.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_host.h"

/* ------------------------------------------------------------ allocator */

struct test_block
{
	test_block *prev;
	test_block *next;
	size_t		size;
	/* data follows, 16-byte aligned */
};

#define BLOCK_HEADER ((sizeof(test_block) + 15) & ~(size_t) 15)

static void *
ta_alloc(void *ctx, size_t size)
{
	test_alloc *ta = ctx;
	test_block *b;

	if (ta->fail_after == 0)
		return NULL;
	if (ta->fail_after > 0)
		ta->fail_after--;
	b = malloc(BLOCK_HEADER + size);
	if (b == NULL)
		return NULL;
	b->size = size;
	b->prev = NULL;
	b->next = ta->blocks;
	if (ta->blocks)
		ta->blocks->prev = b;
	ta->blocks = b;
	ta->live++;
	return (char *) b + BLOCK_HEADER;
}

static void
ta_free(void *ctx, void *ptr)
{
	test_alloc *ta = ctx;
	test_block *b;

	if (ptr == NULL)
		return;
	b = (test_block *) ((char *) ptr - BLOCK_HEADER);
	if (b->prev)
		b->prev->next = b->next;
	else
		ta->blocks = b->next;
	if (b->next)
		b->next->prev = b->prev;
	ta->live--;
	free(b);
}

static void *
ta_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	void	   *n = ta_alloc(ctx, new_size);

	if (n == NULL)
		return NULL;
	if (ptr)
	{
		test_block *b = (test_block *) ((char *) ptr - BLOCK_HEADER);

		memcpy(n, ptr, b->size < new_size ? b->size : new_size);
		ta_free(ctx, ptr);
	}
	(void) old_size;
	return n;
}

void
test_alloc_init(test_alloc *ta)
{
	ta->alloc.alloc = ta_alloc;
	ta->alloc.realloc = ta_realloc;
	ta->alloc.free = ta_free;
	ta->alloc.ctx = ta;
	ta->alloc.over_budget = NULL;
	ta->blocks = NULL;
	ta->live = 0;
	ta->fail_after = -1;
}

void
test_alloc_release(test_alloc *ta)
{
	while (ta->blocks)
		ta_free(ta, (char *) ta->blocks + BLOCK_HEADER);
}

/* ----------------------------------------------------------------- host */

static void
copy_text(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool
text_is(const char *fixture, const ecl_string *s)
{
	return strlen(fixture) == s->len && memcmp(fixture, s->data, s->len) == 0;
}

static ecl_status
maybe_fail(test_host *h, const char *entry, ecl_error *err)
{
	if (h->fail_entry && strcmp(h->fail_entry, entry) == 0)
		return ecl_error_set(err, ECL_ERR_HOST, 0, 0, "fixture failure in %s", entry);
	return ECL_OK;
}

static ecl_status
th_load_trust(void *hctx, const ecl_string *did, ecl_trust *out, ecl_error *err)
{
	test_host  *h = hctx;
	const test_trust_row *global = NULL;

	h->calls_load_trust++;
	if (maybe_fail(h, "load_trust", err) != ECL_OK)
		return ECL_FAIL;
	for (int i = 0; i < h->ntrust; i++)
	{
		if (!text_is(h->trust[i].did, did))
			continue;
		if (strcmp(h->trust[i].realm, h->realm) == 0)
		{
			memcpy(out->dim, h->trust[i].dim, sizeof(out->dim));
			return ECL_OK;
		}
		if (h->trust[i].realm[0] == '\0')
			global = &h->trust[i];
	}
	if (global)
		memcpy(out->dim, global->dim, sizeof(out->dim));
	else
		memset(out->dim, 0, sizeof(out->dim));
	return ECL_OK;
}

static ecl_status
th_has_credential(void *hctx, const ecl_string *did, const ecl_string *schema,
				  bool *out, ecl_error *err)
{
	test_host  *h = hctx;

	h->calls_has_credential++;
	if (maybe_fail(h, "has_credential", err) != ECL_OK)
		return ECL_FAIL;
	*out = false;
	for (int i = 0; i < h->ncredentials; i++)
		if (text_is(h->credentials[i].did, did) && text_is(h->credentials[i].schema, schema))
			*out = true;
	return ECL_OK;
}

static ecl_status
th_resolve_did(void *hctx, const ecl_string *did, bool *out, ecl_error *err)
{
	test_host  *h = hctx;

	h->calls_resolve_did++;
	if (maybe_fail(h, "resolve_did", err) != ECL_OK)
		return ECL_FAIL;
	*out = false;
	for (int i = 0; i < h->nidentities; i++)
		if (text_is(h->identities[i].did, did))
			*out = !h->identities[i].revoked;
	return ECL_OK;
}

static ecl_status
th_get_balance(void *hctx, const ecl_string *did, double *out, ecl_error *err)
{
	test_host  *h = hctx;

	h->calls_get_balance++;
	if (maybe_fail(h, "get_balance", err) != ECL_OK)
		return ECL_FAIL;
	*out = 0;
	for (int i = 0; i < h->nbalances; i++)
		if (text_is(h->balances[i].did, did))
			*out = h->balances[i].amount;
	return ECL_OK;
}

static ecl_status
th_get_timestamp(void *hctx, double *out, ecl_error *err)
{
	test_host  *h = hctx;

	if (maybe_fail(h, "get_timestamp", err) != ECL_OK)
		return ECL_FAIL;
	*out = h->timestamp;
	return ECL_OK;
}

static ecl_status
th_log(void *hctx, const ecl_string *msg, ecl_error *err)
{
	test_host  *h = hctx;

	if (maybe_fail(h, "log", err) != ECL_OK)
		return ECL_FAIL;
	if (h->nlogs < TEST_MAX_LOG)
		copy_text(h->logs[h->nlogs++], sizeof(h->logs[0]), msg->data, msg->len);
	return ECL_OK;
}

static ecl_status
th_emit(void *hctx, const ecl_string *event, ecl_value payload, ecl_error *err)
{
	test_host  *h = hctx;
	char	   *json;
	size_t		len;

	if (maybe_fail(h, "emit", err) != ECL_OK)
		return ECL_FAIL;
	if (h->nevents >= TEST_MAX_LOG)
		return ecl_error_set(err, ECL_ERR_HOST, 0, 0, "too many events");
	if (ecl_json_write(h->alloc, payload, &json, &len, err) != ECL_OK)
		return ECL_FAIL;
	copy_text(h->events[h->nevents].name, sizeof(h->events[0].name), event->data, event->len);
	copy_text(h->events[h->nevents].payload, sizeof(h->events[0].payload), json, len);
	h->nevents++;
	ecl_free(h->alloc, json);
	return ECL_OK;
}

static ecl_status
th_get_metric(void *hctx, const ecl_alloc *a, const ecl_string *name,
			  ecl_value *out, ecl_error *err)
{
	test_host  *h = hctx;

	if (maybe_fail(h, "get_metric", err) != ECL_OK)
		return ECL_FAIL;
	*out = ecl_null();
	for (int i = 0; i < h->nmetrics; i++)
		if (text_is(h->metrics[i].name, name))
			*out = ecl_number(h->metrics[i].value);
	return ECL_OK;
}

/* owner of a store access: the caller for personal stores, "" for shared */
static ecl_status
store_owner(test_host *h, bool personal, const char **owner, ecl_error *err)
{
	if (!personal)
	{
		*owner = "";
		return ECL_OK;
	}
	if (h->caller == NULL)
		return ecl_error_set(err, ECL_ERR_HOST, 0, 0, "personal store needs a caller");
	*owner = h->caller;
	return ECL_OK;
}

static test_store_row *
store_find(test_host *h, const ecl_string *store, const char *owner, const ecl_string *key)
{
	for (int i = 0; i < h->nstore; i++)
	{
		test_store_row *r = &h->store[i];

		if (strcmp(r->realm, h->realm) == 0 && text_is(r->store, store) &&
			strcmp(r->owner, owner) == 0 && text_is(r->key, key))
			return r;
	}
	return NULL;
}

static ecl_status
th_store_get(void *hctx, const ecl_alloc *a, const ecl_string *store,
			 const ecl_string *key, bool personal, ecl_value *out, ecl_error *err)
{
	test_host  *h = hctx;
	const char *owner;
	test_store_row *r;

	h->calls_store_get++;
	if (maybe_fail(h, "store_get", err) != ECL_OK ||
		store_owner(h, personal, &owner, err) != ECL_OK)
		return ECL_FAIL;
	r = store_find(h, store, owner, key);
	if (r == NULL)
	{
		*out = ecl_null();
		return ECL_OK;
	}
	/* hand out a copy in the run's memory, as a real host would */
	return ecl_value_copy(a, r->value, out, err);
}

static ecl_status
th_store_put(void *hctx, const ecl_string *store, const ecl_string *key,
			 ecl_value value, bool personal, ecl_error *err)
{
	test_host  *h = hctx;
	const char *owner;
	test_store_row *r;
	ecl_value	copy;

	h->calls_store_put++;
	if (maybe_fail(h, "store_put", err) != ECL_OK ||
		store_owner(h, personal, &owner, err) != ECL_OK)
		return ECL_FAIL;
	if (ecl_value_copy(h->alloc, value, &copy, err) != ECL_OK)
		return ECL_FAIL;
	r = store_find(h, store, owner, key);
	if (r == NULL)
	{
		if (h->nstore >= TEST_MAX_STORE)
			return ecl_error_set(err, ECL_ERR_HOST, 0, 0, "fixture store is full");
		r = &h->store[h->nstore++];
		copy_text(r->realm, sizeof(r->realm), h->realm, strlen(h->realm));
		copy_text(r->store, sizeof(r->store), store->data, store->len);
		copy_text(r->owner, sizeof(r->owner), owner, strlen(owner));
		copy_text(r->key, sizeof(r->key), key->data, key->len);
	}
	r->value = copy;
	return ECL_OK;
}

static ecl_status
th_store_delete(void *hctx, const ecl_string *store, const ecl_string *key,
				bool personal, bool *existed, ecl_error *err)
{
	test_host  *h = hctx;
	const char *owner;
	test_store_row *r;

	if (maybe_fail(h, "store_delete", err) != ECL_OK ||
		store_owner(h, personal, &owner, err) != ECL_OK)
		return ECL_FAIL;
	r = store_find(h, store, owner, key);
	*existed = r != NULL;
	if (r)
		*r = h->store[--h->nstore];
	return ECL_OK;
}

static int
store_entries(test_host *h, const ecl_string *store, const char *owner)
{
	int			n = 0;

	for (int i = 0; i < h->nstore; i++)
		if (strcmp(h->store[i].realm, h->realm) == 0 &&
			text_is(h->store[i].store, store) && strcmp(h->store[i].owner, owner) == 0)
			n++;
	return n;
}

static ecl_status
th_store_exists(void *hctx, const ecl_string *store, bool personal, bool *out,
				ecl_error *err)
{
	test_host  *h = hctx;
	const char *owner;

	if (maybe_fail(h, "store_exists", err) != ECL_OK ||
		store_owner(h, personal, &owner, err) != ECL_OK)
		return ECL_FAIL;
	*out = store_entries(h, store, owner) > 0;
	return ECL_OK;
}

static ecl_status
th_store_count(void *hctx, const ecl_string *store, bool personal, double *out,
			   ecl_error *err)
{
	test_host  *h = hctx;
	const char *owner;

	if (maybe_fail(h, "store_count", err) != ECL_OK ||
		store_owner(h, personal, &owner, err) != ECL_OK)
		return ECL_FAIL;
	*out = store_entries(h, store, owner);
	return ECL_OK;
}

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static ecl_status
th_store_list_keys(void *hctx, const ecl_alloc *a, const ecl_string *store,
				   const ecl_string *prefix, int64_t limit, ecl_value *out,
				   ecl_error *err)
{
	test_host  *h = hctx;
	const char *keys[TEST_MAX_STORE];
	int			n = 0;

	if (maybe_fail(h, "store_list_keys", err) != ECL_OK)
		return ECL_FAIL;
	for (int i = 0; i < h->nstore; i++)
	{
		test_store_row *r = &h->store[i];

		if (strcmp(r->realm, h->realm) != 0 || !text_is(r->store, store) || r->owner[0] != '\0')
			continue;
		if (prefix && strncmp(r->key, prefix->data, prefix->len) != 0)
			continue;
		keys[n++] = r->key;
	}
	qsort(keys, n, sizeof(keys[0]), cmp_cstr);	/* bytewise: ASCII keys */
	if (limit >= 0 && limit < n)
		n = (int) limit;
	if (ecl_array_new(a, (uint32_t) n, out, err) != ECL_OK)
		return ECL_FAIL;
	for (int i = 0; i < n; i++)
		if (ecl_string_new(a, keys[i], strlen(keys[i]), &out->u.arr->items[i], err) != ECL_OK)
			return ECL_FAIL;
	return ECL_OK;
}

const ecl_host test_host_vtable = {
	.load_trust = th_load_trust,
	.has_credential = th_has_credential,
	.resolve_did = th_resolve_did,
	.get_balance = th_get_balance,
	.get_timestamp = th_get_timestamp,
	.log = th_log,
	.emit = th_emit,
	.get_metric = th_get_metric,
	.store_get = th_store_get,
	.store_put = th_store_put,
	.store_delete = th_store_delete,
	.store_exists = th_store_exists,
	.store_count = th_store_count,
	.store_list_keys = th_store_list_keys,
};

void
test_host_init(test_host *h, const ecl_alloc *a, const char *caller, const char *realm)
{
	memset(h, 0, sizeof(*h));
	h->alloc = a;
	h->caller = caller;
	h->realm = realm ? realm : "";
	h->timestamp = 1700000000;
}

void
test_host_add_trust(test_host *h, const char *did, const char *realm, double r,
					double i, double c, double p, double v, double o)
{
	test_trust_row *row = &h->trust[h->ntrust++];

	copy_text(row->did, sizeof(row->did), did, strlen(did));
	copy_text(row->realm, sizeof(row->realm), realm, strlen(realm));
	row->dim[0] = r;
	row->dim[1] = i;
	row->dim[2] = c;
	row->dim[3] = p;
	row->dim[4] = v;
	row->dim[5] = o;
}

void
test_host_add_credential(test_host *h, const char *did, const char *schema)
{
	int			n = h->ncredentials++;

	copy_text(h->credentials[n].did, sizeof(h->credentials[n].did), did, strlen(did));
	copy_text(h->credentials[n].schema, sizeof(h->credentials[n].schema), schema, strlen(schema));
}

void
test_host_add_identity(test_host *h, const char *did, bool revoked)
{
	int			n = h->nidentities++;

	copy_text(h->identities[n].did, sizeof(h->identities[n].did), did, strlen(did));
	h->identities[n].revoked = revoked;
}

void
test_host_set_balance(test_host *h, const char *did, double amount)
{
	int			n = h->nbalances++;

	copy_text(h->balances[n].did, sizeof(h->balances[n].did), did, strlen(did));
	h->balances[n].amount = amount;
}

void
test_host_set_metric(test_host *h, const char *name, double value)
{
	int			n = h->nmetrics++;

	copy_text(h->metrics[n].name, sizeof(h->metrics[n].name), name, strlen(name));
	h->metrics[n].value = value;
}

bool
test_host_store_set_json(test_host *h, const char *store, const char *owner,
						 const char *key, const char *json)
{
	ecl_value	v,
				s,
				k;
	ecl_error	err;
	const char *saved = h->caller;
	bool		ok;

	if (ecl_json_parse(h->alloc, json, strlen(json), &v, &err) != ECL_OK ||
		ecl_string_new(h->alloc, store, strlen(store), &s, &err) != ECL_OK ||
		ecl_string_new(h->alloc, key, strlen(key), &k, &err) != ECL_OK)
		return false;
	h->caller = owner[0] ? owner : saved;
	ok = th_store_put(h, s.u.str, k.u.str, v, owner[0] != '\0', &err) == ECL_OK;
	h->caller = saved;
	h->calls_store_put--;		/* fixture set-up is not a call by the VM */
	return ok;
}

const char *
test_host_store_json(test_host *h, const char *store, const char *owner,
					 const char *key, char *buf, size_t bufsize)
{
	for (int i = 0; i < h->nstore; i++)
	{
		test_store_row *r = &h->store[i];
		char	   *json;
		size_t		len;
		ecl_error	err;

		if (strcmp(r->realm, h->realm) != 0 || strcmp(r->store, store) != 0 ||
			strcmp(r->owner, owner) != 0 || strcmp(r->key, key) != 0)
			continue;
		if (ecl_json_write(h->alloc, r->value, &json, &len, &err) != ECL_OK)
			snprintf(buf, bufsize, "<error %s>", err.message);
		else
		{
			copy_text(buf, bufsize, json, len);
			ecl_free(h->alloc, json);
		}
		return buf;
	}
	snprintf(buf, bufsize, "<absent>");
	return buf;
}

/* ------------------------------------------------------------ assembler */

static ecl_status
asm_error(ecl_error *err, const char *what, const char *at)
{
	return ecl_error_set(err, ECL_ERR_SYNTAX, 0, 0, "test_asm: %s at \"%.20s\"", what, at);
}

ecl_status
test_asm(const ecl_alloc *a, const char *consts_json, const char *src,
		 uint32_t nlocals, const char *name, uint8_t **bytes, size_t *len,
		 ecl_error *err)
{
	ecl_chunk	chunk;
	const char *s = src;

	if (ecl_chunk_init(&chunk, a, err) != ECL_OK)
		return ECL_FAIL;
	chunk.nlocals = nlocals;
	if (name && ecl_chunk_set_name(&chunk, name, strlen(name), err) != ECL_OK)
		return ECL_FAIL;
	if (consts_json)
	{
		ecl_value	arr;

		if (ecl_json_parse(a, consts_json, strlen(consts_json), &arr, err) != ECL_OK)
			return ECL_FAIL;
		if (arr.type != ECL_T_ARRAY)
			return asm_error(err, "constants must be a JSON array", consts_json);
		for (uint32_t i = 0; i < arr.u.arr->len; i++)
		{
			uint32_t	idx;

			if (ecl_chunk_add_const(&chunk, arr.u.arr->items[i], &idx, err) != ECL_OK)
				return ECL_FAIL;
			if (idx != i)
				return asm_error(err, "duplicate constant", consts_json);
		}
	}
	while (*s)
	{
		char		opname[32];
		size_t		n = 0;
		int			op = -1;
		uint32_t	arg = 0;
		uint32_t	line = chunk.ncode + 1,
					column = 1;

		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == ';')
			s++;
		if (*s == '\0')
			break;
		while ((*s >= 'A' && *s <= 'Z') || *s == '_')
		{
			if (n + 1 < sizeof(opname))
				opname[n++] = *s;
			s++;
		}
		opname[n] = '\0';
		for (int i = 0; i < ECL_OP_COUNT; i++)
			if (strcmp(ecl_opcode_table[i].name, opname) == 0)
				op = i;
		if (op < 0)
			return asm_error(err, "unknown opcode", s - n);
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncmp(s, "none", 4) == 0)
		{
			arg = ECL_NO_ARG;
			s += 4;
		}
		else if (*s >= '0' && *s <= '9')
			arg = (uint32_t) strtoul(s, (char **) &s, 10);
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '@')
		{
			line = (uint32_t) strtoul(s + 1, (char **) &s, 10);
			if (*s == ':')
				column = (uint32_t) strtoul(s + 1, (char **) &s, 10);
		}
		if (ecl_chunk_emit(&chunk, (ecl_opcode) op, arg, line, column, NULL, err) != ECL_OK)
			return ECL_FAIL;
	}
	return ecl_chunk_serialize(&chunk, bytes, len, err);
}

ecl_status
test_asm_load(const ecl_alloc *a, const char *consts_json, const char *src,
			  uint32_t nlocals, ecl_program **prog, ecl_error *err)
{
	uint8_t    *bytes;
	size_t		len;

	if (test_asm(a, consts_json, src, nlocals, "test_policy", &bytes, &len, err) != ECL_OK)
		return ECL_FAIL;
	return ecl_program_load(a, bytes, len, 0, prog, err);
}

/* ------------------------------------------------------------- run helper */

void
test_run_init(test_run *t, const char *input_json)
{
	memset(t, 0, sizeof(*t));
	test_alloc_init(&t->ta);
	test_host_init(&t->host, &t->ta.alloc, "did:test:alice", "realm1");
	if (input_json == NULL)
		input_json = "{}";
	if (ecl_json_parse(&t->ta.alloc, input_json, strlen(input_json), &t->input, &t->err) != ECL_OK)
	{
		fprintf(stderr, "test_run_init: bad input JSON: %s\n", t->err.message);
		abort();
	}
	t->ctx.alloc = &t->ta.alloc;
	t->ctx.host = &test_host_vtable;
	t->ctx.host_ctx = &t->host;
	if (ecl_did_new(&t->ta.alloc, "did:test:alice", 14, &t->ctx.caller, &t->err) != ECL_OK ||
		ecl_string_new(&t->ta.alloc, "realm1", 6, &t->ctx.realm, &t->err) != ECL_OK)
		abort();
	ecl_input_from_value(&t->ctx.input, &t->input);
	t->ctx.limits.gas_limit = 100000;
	t->ctx.limits.mana_limit = 100000;
	t->ctx.limits.max_steps = 0;
	t->ctx.limits.max_stack_depth = 1024;
}

void
test_run_free(test_run *t)
{
	test_alloc_release(&t->ta);
}

ecl_status
test_run_exec(test_run *t, const char *consts_json, const char *src, uint32_t nlocals)
{
	ecl_status	st;
	char	   *json;
	size_t		len;
	ecl_error	err;

	t->value_json[0] = '\0';
	if (test_asm_load(&t->ta.alloc, consts_json, src, nlocals, &t->prog, &t->err) != ECL_OK)
	{
		memset(&t->res, 0, sizeof(t->res));
		t->res.outcome = ECL_OUTCOME_ERROR;
		t->res.error = t->err;
		return ECL_FAIL;
	}
	st = ecl_vm_run(t->prog, &t->ctx, &t->res);
	if (ecl_json_write(&t->ta.alloc, t->res.value, &json, &len, &err) == ECL_OK)
	{
		copy_text(t->value_json, sizeof(t->value_json), json, len);
		ecl_free(&t->ta.alloc, json);
	}
	return st;
}
