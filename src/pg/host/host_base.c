/*
 * host_base.c — what the table host and the state host share (see
 * host_base.h).
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "ecl_pg.h"
#include "host_base.h"

ecl_status
ecl_host_log(void *hctx, const ecl_string *msg, ecl_error *err)
{
	EclHostBase *base = (EclHostBase *) hctx;
	MemoryContext old;
	char	   *copy;

	/* the message is kept for the result: it counts against the budget */
	if (ecl_run_memory_exceeded((Size) msg->len + 1))
		return ecl_run_memory_error(err, "keeping a log() message");
	old = MemoryContextSwitchTo(base->cxt);
	copy = pnstrdup(msg->data, msg->len);

	base->logs = lappend(base->logs, copy);
	MemoryContextSwitchTo(old);
	elog(DEBUG1, "ecl policy \"%s\" log%s: %s",
		 base->policy ? base->policy : "(ad hoc)",
		 base->simulated ? " (simulated)" : "", copy);
	return ECL_OK;
}

/*
 * The transaction start in Unix seconds, so one transaction sees one time;
 * a snapshot's own time when the host has one (a stored snapshot replays
 * its transaction's time).
 */
ecl_status
ecl_host_get_timestamp(void *hctx, double *out, ecl_error *err)
{
	EclHostBase *base = (EclHostBase *) hctx;

	if (base->has_timestamp)
		*out = base->timestamp;
	else
		*out = ecl_unix_seconds(GetCurrentTransactionStartTimestamp());
	return ECL_OK;
}

void
ecl_jsonb_push_key(JsonbParseState **ps, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(ps, WJB_KEY, &k);
}

Jsonb *
ecl_jsonb_array_of(List *items)
{
	JsonbParseState *ps = NULL;
	ListCell   *lc;

	pushJsonbValue(&ps, WJB_BEGIN_ARRAY, NULL);
	foreach(lc, items)
	{
		Jsonb	   *item = (Jsonb *) lfirst(lc);
		JsonbValue	jv;

		jv.type = jbvBinary;
		jv.val.binary.data = &item->root;
		jv.val.binary.len = VARSIZE(item) - VARHDRSZ;
		pushJsonbValue(&ps, WJB_ELEM, &jv);
	}
	return JsonbValueToJsonb(pushJsonbValue(&ps, WJB_END_ARRAY, NULL));
}

Jsonb *
ecl_host_events(const EclHostBase *base, bool kept)
{
	return ecl_jsonb_array_of(kept ? base->events : NIL);
}
