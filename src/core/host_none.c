/*
 * host_none.c — the empty host (pure computation) and an input source over
 * an in-memory object value.
 */
#include "ecl/host.h"
#include "ecl/vm.h"

const ecl_host ecl_no_host = {0};

static ecl_status
value_get_field(void *ictx, const ecl_alloc *a, const char *name, size_t len,
				ecl_value *out, bool *found, ecl_error *err)
{
	const ecl_value *input = ictx;
	const ecl_value *v;

	(void) a;
	(void) err;
	*found = false;
	if (input == NULL || input->type != ECL_T_OBJECT)
		return ECL_OK;
	v = ecl_object_get(input->u.obj, name, len);
	if (v != NULL)
	{
		*out = *v;
		*found = true;
	}
	return ECL_OK;
}

static ecl_status
value_materialize(void *ictx, const ecl_alloc *a, ecl_value *out, ecl_error *err)
{
	const ecl_value *input = ictx;

	if (input == NULL || input->type == ECL_T_NULL)
		return ecl_object_new(a, 0, out, err);
	*out = *input;
	return ECL_OK;
}

void
ecl_input_from_value(ecl_input_source *src, const ecl_value *v)
{
	src->get_field = value_get_field;
	src->materialize = value_materialize;
	src->ctx = (void *) v;
}
