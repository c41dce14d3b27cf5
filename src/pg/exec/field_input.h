/*
 * field_input.h — the input of a run given as field values instead of a
 * jsonb (docs/planner.md, "Calls that stay in the VM").
 *
 * The planner rewrites ecl.check(..., jsonb_build_object('k', v, ...)) that
 * it cannot translate into a call that passes the keys (a constant) and the
 * values; the runner reads the fields from here.  Every value becomes the
 * ECL value the jsonb path would give for it (jsonb_build_object, then the
 * jsonb -> ECL conversion), and the fields are seen in jsonb's order with
 * jsonb's rule for a repeated key (the last one wins), so a policy cannot
 * tell the two paths apart.
 */
#ifndef ECL_FIELD_INPUT_H
#define ECL_FIELD_INPUT_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "ecl/vm.h"

/* At most this many distinct keys: the jsonb path indexes as many */
#define ECL_FIELD_INPUT_MAX 16

typedef struct EclInputFields
{
	int			nfields;		/* distinct keys, in jsonb's key order */
	const char *const *names;	/* nfields names */
	const uint32 *name_lens;
	const Oid  *types;			/* each a type ecl_field_type_supported */
	const Datum *values;
	const bool *nulls;
} EclInputFields;

/*
 * Types whose value converts exactly as the jsonb path converts it:
 * smallint, integer, bigint, boolean, text, varchar, numeric, double
 * precision.
 */
bool		ecl_field_type_supported(Oid type);

/*
 * An input source over fields (vm.h); state must point to storage of
 * ECL_FIELD_INPUT_STATE_SIZE bytes living as long as the run.
 */
#define ECL_FIELD_INPUT_STATE_SIZE 512
void		ecl_input_from_fields(ecl_input_source *src,
								  const EclInputFields *fields, void *state);

/*
 * The bytes that identify the input in the statement's memo of runs: names
 * and ECL values.  They cannot equal a jsonb's bytes (the first byte is not
 * a 4-byte varlena header), so the two paths never share an entry.
 */
void		ecl_input_fields_memo_key(const EclInputFields *fields,
									  StringInfo key);

/* The jsonb the call would have built from these fields (not on a run's path) */
Jsonb	   *ecl_input_fields_jsonb(const EclInputFields *fields);

#endif							/* ECL_FIELD_INPUT_H */
