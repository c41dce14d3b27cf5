/*
 * decision_queue.h — the decision log's bounded queue in shared memory
 * (docs/lifecycle.md, "Decision log").
 *
 * The runner puts one fixed-size record per decision here; the launcher
 * (decision_worker.c) takes them out in batches and has them written to
 * ecl.decision_log of their database; ecl.recent_decisions reads what is
 * in the queue without taking it out.  A producer never waits: the queue
 * is a lock-free ring with a sequence number per slot, a full queue drops
 * the newest record and counts it (on a hot standby, where nothing is ever
 * taken out, the oldest is dropped instead, so the ring keeps the newest).
 */
#ifndef ECL_DECISION_QUEUE_H
#define ECL_DECISION_QUEUE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/latch.h"

/* Text fields are clipped to these sizes (the terminating NUL included). */
#define ECL_DECISION_CALLER_LEN		160
#define ECL_DECISION_NAME_LEN		128
#define ECL_DECISION_REALM_LEN		128
#define ECL_DECISION_MESSAGE_LEN	256
#define ECL_DECISION_INPUT_LEN		513 /* inputs up to 512 bytes of JSON */
#define ECL_DECISION_HEX_LEN		65	/* 32 bytes as hex, NUL */

/* EclDecision.flags */
#define ECL_DECISION_HAS_POLICY		0x0001
#define ECL_DECISION_HAS_CALLER		0x0002
#define ECL_DECISION_HAS_REALM		0x0004
#define ECL_DECISION_HAS_MESSAGE	0x0008
#define ECL_DECISION_HAS_INPUT		0x0010	/* input[] holds the whole input */
#define ECL_DECISION_HAS_VERSION	0x0020	/* version and hash are set */
#define ECL_DECISION_HAS_SQLSTATE	0x0040	/* the run ended in an error */
#define ECL_DECISION_CLIPPED		0x0080	/* policy, caller or realm clipped */

typedef struct EclDecision
{
	TimestampTz at;
	int64		gas;
	int64		mana;
	int64		duration_us;
	int64		query_id;
	int64		version;
	Oid			dbid;
	Oid			roleid;
	uint16		flags;
	bool		passed;
	int8		shadow_result;	/* EclRunOutcome.shadow_result */
	char		sqlstate[6];
	char		hash[ECL_DECISION_HEX_LEN];
	char		input_digest[ECL_DECISION_HEX_LEN];
	char		caller[ECL_DECISION_CALLER_LEN];
	char		policy[ECL_DECISION_NAME_LEN];
	char		realm[ECL_DECISION_REALM_LEN];
	char		message[ECL_DECISION_MESSAGE_LEN];
	char		input[ECL_DECISION_INPUT_LEN];
} EclDecision;

/* ecl.decision_log: which decisions are logged */
typedef enum EclDecisionLogLevel
{
	ECL_DECISION_LOG_OFF,
	ECL_DECISION_LOG_ERRORS,	/* runs that ended in an error */
	ECL_DECISION_LOG_DENIED,	/* and denials */
	ECL_DECISION_LOG_ALL		/* and passes (sampled) */
} EclDecisionLogLevel;

extern int	ecl_decision_log;
extern double ecl_decision_log_sample_rate;
extern bool ecl_decision_log_inputs;
extern int	ecl_decision_log_queue_size;
extern int	ecl_decision_log_retention_s;
extern int	ecl_decision_log_flush_interval_ms;

/* _PG_init, when preloaded: shared memory and the launcher */
void		ecl_decision_queue_init(void);

/* the queue exists (the library was preloaded) */
bool		ecl_decision_queue_available(void);

/*
 * Put a copy of *d into the queue: a few atomic operations and one
 * memcpy; never waits, never raises.  false: the queue was full and the
 * record was dropped (counted in decisions_dropped of its database).
 */
bool		ecl_decision_enqueue(const EclDecision *d);

/* Take the oldest record out: false when there is none ready. */
bool		ecl_decision_dequeue(EclDecision *out);

/*
 * Copy the records now in the queue (at most max) into out without taking
 * them out; returns how many.  A slot overwritten while it was read is
 * left out.
 */
int			ecl_decision_queue_peek(EclDecision *out, int max);

/* Records in the queue now (approximate under concurrency). */
int			ecl_decision_queue_length(void);

/* the launcher's latch, for producers to wake it when the queue fills */
void		ecl_decision_queue_set_launcher(Latch *latch);

#endif							/* ECL_DECISION_QUEUE_H */
