/*
 * decision_record.c — one decision, from the runner's request and outcome
 * to a queued record (decision_record.h).
 *
 * Everything that may fail or allocate (the input's text, its digest) is
 * done here, on this backend's stack and in the caller's memory context,
 * before the record is handed to the queue: queueing is then a memcpy.
 */
#include "postgres.h"

#include <sodium.h>

#include "common/pg_prng.h"
#include "miscadmin.h"
#include "utils/backend_status.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "decision_record.h"
#include "field_input.h"

int			ecl_decision_log = ECL_DECISION_LOG_OFF;
double		ecl_decision_log_sample_rate = 1.0;
bool		ecl_decision_log_inputs = false;
int			ecl_decision_log_queue_size = 4096;
int			ecl_decision_log_retention_s = 0;
int			ecl_decision_log_flush_interval_ms = 1000;

/* strlcpy that says whether the text was clipped */
static bool
copy_clipped(char *dst, const char *src, size_t size)
{
	return strlcpy(dst, src, size) >= size;
}

static void
hex_of(char *out, const uint8 *bytes, size_t len)
{
	sodium_bin2hex(out, len * 2 + 1, bytes, len);
}

static bool
is_logged(EclDecisionOutcome outcome)
{
	switch (outcome)
	{
		case ECL_DECISION_ERROR:
			return ecl_decision_log >= ECL_DECISION_LOG_ERRORS;
		case ECL_DECISION_DENIED:
			return ecl_decision_log >= ECL_DECISION_LOG_DENIED;
		case ECL_DECISION_PASSED:
			if (ecl_decision_log < ECL_DECISION_LOG_ALL)
				return false;
			/* the sample applies to passes only: every "no" is kept */
			return ecl_decision_log_sample_rate >= 1.0 ||
				pg_prng_double(&pg_global_prng_state) < ecl_decision_log_sample_rate;
	}
	return false;
}

/*
 * The input as JSON text (jsonb's canonical output, what input::text
 * gives) and its SHA-256, so a logged digest can be matched with
 * sha256(convert_to(input::text, 'UTF8')).
 */
static void
set_input(EclDecision *d, Jsonb *input)
{
	char	   *text;
	size_t		len;
	uint8		digest[crypto_hash_sha256_BYTES];

	text = input != NULL
		? JsonbToCString(NULL, &input->root, VARSIZE(input))
		: pstrdup("{}");
	len = strlen(text);
	crypto_hash_sha256(digest, (const unsigned char *) text, len);
	hex_of(d->input_digest, digest, sizeof(digest));
	if (ecl_decision_log_inputs && len < ECL_DECISION_INPUT_LEN)
	{
		memcpy(d->input, text, len + 1);
		d->flags |= ECL_DECISION_HAS_INPUT;
	}
	else
		d->input[0] = '\0';
	pfree(text);
}

void
ecl_decision_log_run(const EclRunRequest *req, EclDecisionOutcome outcome,
					 const char *message, int sqlerrcode,
					 int64 gas, int64 mana, int64 duration_us,
					 int8 shadow_result)
{
	EclDecision d;
	bool		clipped = false;

	if (!is_logged(outcome))
		return;

	/* every field is set: the whole record is copied into the queue */
	memset(&d, 0, offsetof(EclDecision, caller));
	d.at = GetCurrentTimestamp();
	d.gas = gas;
	d.mana = mana;
	d.duration_us = duration_us;
	d.query_id = (int64) pgstat_get_my_query_id();
	d.dbid = MyDatabaseId;
	d.roleid = GetUserId();
	d.passed = outcome == ECL_DECISION_PASSED;
	d.shadow_result = shadow_result;

	d.caller[0] = d.policy[0] = d.realm[0] = d.message[0] = '\0';
	if (req->policy_name != NULL)
	{
		d.flags |= ECL_DECISION_HAS_POLICY;
		clipped |= copy_clipped(d.policy, req->policy_name, sizeof(d.policy));
	}
	if (req->policy_hash != NULL)
	{
		d.flags |= ECL_DECISION_HAS_VERSION;
		d.version = req->policy_version;
		hex_of(d.hash, req->policy_hash, 32);
	}
	if (req->caller_did != NULL)
	{
		d.flags |= ECL_DECISION_HAS_CALLER;
		clipped |= copy_clipped(d.caller, req->caller_did, sizeof(d.caller));
	}
	if (req->realm_id != NULL)
	{
		d.flags |= ECL_DECISION_HAS_REALM;
		clipped |= copy_clipped(d.realm, req->realm_id, sizeof(d.realm));
	}
	if (clipped)
		d.flags |= ECL_DECISION_CLIPPED;
	if (message != NULL)
	{
		d.flags |= ECL_DECISION_HAS_MESSAGE;
		(void) copy_clipped(d.message, message, sizeof(d.message));
	}
	if (outcome == ECL_DECISION_ERROR)
	{
		d.flags |= ECL_DECISION_HAS_SQLSTATE;
		memcpy(d.sqlstate, unpack_sql_state(sqlerrcode), 6);
	}
	/* a call the planner left in the VM passes field values, not a jsonb */
	set_input(&d, req->input == NULL && req->fields != NULL
			  ? ecl_input_fields_jsonb(req->fields) : req->input);

	(void) ecl_decision_enqueue(&d);
}
