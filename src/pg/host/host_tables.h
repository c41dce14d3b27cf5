/*
 * host_tables.h — the ErynoaHost: the production host of docs/sql-api.md, "The table host", whose
 * functions read and write the ecl.* tables through SPI.
 *
 * How the runner uses it (one run):
 *
 *     EclTableHost th;
 *
 *     ecl_table_host_begin(&th, caller, realm, policy, read_only);
 *     ctx.host = &ecl_table_host;
 *     ctx.host_ctx = &th;
 *     ecl_table_host_execute(&th, program->writes, run_vm, &state);
 *     ... th.logs (List of char *), ecl_table_host_events(&th) (jsonb array
 *     of {event, payload}) and th.events_emitted, all in the memory context
 *     that was current at begin, are copied into the outcome ...
 *
 * ecl_table_host_execute() calls run_vm(&state) with SPI available to the
 * host and, when the program can write (program->writes: store writes or
 * emit), inside a subtransaction.  run_vm returns true to keep the run's
 * writes (the run passed) and false to discard them (denied, or a runtime
 * error that came back as a value): then the subtransaction is rolled back,
 * so a denied or failed run leaves no store row, no event and no
 * notification, and the collected events are cleared.  An error raised by
 * longjmp inside run_vm (SPI, query cancel) also rolls the subtransaction
 * back and is re-thrown unchanged.  Logs are kept in every case.
 *
 * SPI is connected lazily: the first host call that needs a query connects
 * (SPI_connect), and execute disconnects when run_vm returns.  Lookups that
 * hit the per-statement memo (statement_memo.h) need no SPI at all, which keeps
 * ecl.check in a WHERE clause or an RLS policy cheap.
 * ecl_table_host_connect/disconnect are exposed for callers that want to
 * manage the connection themselves (e.g. scratch tests); execute uses them.
 */
#ifndef ECL_HOST_TABLES_H
#define ECL_HOST_TABLES_H

#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "ecl/host.h"

typedef struct EclTableHost
{
	/* the run */
	const char *caller;			/* DID or NULL */
	const char *realm;			/* realm id; "" when the run has none */
	const char *policy;			/* policy name or NULL (ad hoc) */
	bool		read_only;		/* lookups run with SPI read_only = true */

	/* collected, in cxt */
	List	   *logs;			/* char * */
	List	   *events;			/* Jsonb * objects {event, payload} */
	int64		events_emitted;

	/* private */
	MemoryContext cxt;			/* current at begin: where logs/events live */
	MemoryContext call_cxt;		/* scratch of one host call, reset per call;
								 * created on first use */
	bool		may_connect;	/* inside connect .. disconnect */
	bool		connected;		/* SPI_connect done by us */
} EclTableHost;

extern const ecl_host ecl_table_host;

/* Bind a host context to one run; strings must live as long as the run. */
void		ecl_table_host_begin(EclTableHost *h, const char *caller,
								 const char *realm, const char *policy,
								 bool read_only);

/* Allow SPI use (connects lazily) / finish it (SPI_finish if connected). */
void		ecl_table_host_connect(EclTableHost *h);
void		ecl_table_host_disconnect(EclTableHost *h);

typedef bool (*EclHostRunFn) (void *arg);

/* See the comment at the top. */
void		ecl_table_host_execute(EclTableHost *h, bool writes,
								   EclHostRunFn fn, void *arg);

/* The collected events as a jsonb array (in CurrentMemoryContext). */
Jsonb	   *ecl_table_host_events(const EclTableHost *h);

#endif							/* ECL_HOST_TABLES_H */
