/*
 * host_tables.h — the ErynoaHost: the production host of docs/sql-api.md, "The table host", whose
 * functions read and write the ecl.* tables through SPI.
 *
 * The runner uses it through ecl_table_host_ops (host_base.h): begin binds
 * the host to the run, execute calls the runner's VM call with SPI available
 * to the host and, when the program can write (program->writes: store
 * writes or emit), inside a subtransaction.  The VM call returns true to
 * keep the run's writes (the run passed) and false to discard them (denied,
 * or a runtime error that came back as a value): then the subtransaction is
 * rolled back, so a denied or failed run leaves no store row, no event and
 * no notification, and the collected events are cleared.  An error raised
 * by longjmp inside the VM call (SPI, query cancel) also rolls the
 * subtransaction back and is re-thrown unchanged.  Logs are kept in every
 * case (host_base.h).
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

#include "host_base.h"

typedef struct EclTableHost
{
	EclHostBase base;			/* must be first: caller, realm, logs, ... */
	bool		read_only;		/* lookups run with SPI read_only = true */

	/* private */
	MemoryContext call_cxt;		/* scratch of one host call, reset per call;
								 * created on first use */
	bool		may_connect;	/* inside connect .. disconnect */
	bool		connected;		/* SPI_connect done by us */
} EclTableHost;

extern const ecl_host ecl_table_host;
extern const EclHostOps ecl_table_host_ops;

/* Bind a host context to one run; strings must live as long as the run. */
void		ecl_table_host_begin(EclTableHost *h, const char *caller,
								 const char *realm, const char *policy,
								 bool read_only);

/* Allow SPI use (connects lazily) / finish it (SPI_finish if connected). */
void		ecl_table_host_connect(EclTableHost *h);
void		ecl_table_host_disconnect(EclTableHost *h);

/*
 * Every DID's trust in realm as load_trust answers it (the realm's row,
 * else the global one; a revoked identity's is zero), read in one scan of
 * ecl.trust under the statement's snapshot.  A DID may be reported twice
 * (a realm row, then a global one): its first report is its answer.  A DID
 * not reported has the zero vector.  False when the table holds more than
 * max_rows rows (then not every DID was reported).
 */
typedef void (*EclTrustRowFn) (const char *did, size_t len,
							   const ecl_trust *trust, void *arg);

bool		ecl_realm_trust_rows(const char *realm, double max_rows,
								 EclTrustRowFn fn, void *arg);

#endif							/* ECL_HOST_TABLES_H */
