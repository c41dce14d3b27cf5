/*
 * decision_worker.c — the background workers that move the decision
 * queue (decision_queue.h) into ecl.decision_log (docs/lifecycle.md,
 * "Decision log").
 *
 * A background worker connects to one database for its whole life, and
 * the queue holds the decisions of every database of the cluster.  So the
 * work is split the way contrib/pg_prewarm's autoprewarm splits it:
 *
 *   - the launcher, a static worker registered at preload that connects to
 *     no database, wakes every ecl.decision_log_flush_interval (or when a
 *     producer finds the queue half full), takes the queued records out,
 *     and for each database among them puts that database's records, in
 *     queue order, into a dynamic shared memory segment;
 *   - a writer, a dynamic worker connected to that database, inserts the
 *     batch into ecl.decision_log in one transaction, trims by
 *     ecl.decision_log_retention, says how many rows it wrote, and exits.
 *
 * The launcher waits for each writer, which is fine: no query waits for
 * the launcher.  A batch is handed to exactly one writer and never again,
 * so a decision is written at most once; a writer that fails (a bad row, a
 * database dropped meanwhile, one without the extension) loses its batch,
 * which is counted in decisions_dropped, and the next batch goes on.
 * When no worker slot is free (max_worker_processes), the launcher keeps
 * the batch and tries again on its next round.
 *
 * The launcher starts only once recovery has finished: on a hot standby
 * nothing takes records out, and the queue keeps the newest
 * (decision_queue.c) for ecl.recent_decisions.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procsignal.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "decision_queue.h"
#include "decision_worker.h"
#include "stats.h"

PGDLLEXPORT void ecl_decision_launcher_main(Datum arg);
PGDLLEXPORT void ecl_decision_writer_main(Datum arg);

/* One database's batch, in a dynamic shared memory segment. */
typedef struct WriterBatch
{
	Oid			dbid;
	int			count;
	int			written;		/* set by the writer after its commit; -1 before */
	EclDecision records[FLEXIBLE_ARRAY_MEMBER];
} WriterBatch;

void
ecl_decision_worker_register(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	strlcpy(worker.bgw_library_name, "ecl", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "ecl_decision_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "ecl decision log launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "ecl decision log launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* ------------------------------------------------------------ the launcher */

/*
 * Start a writer for batch and wait until it has exited.  Returns the rows
 * it wrote, or -1 when no worker could be started (the batch is kept).
 */
static int
run_writer(dsm_segment *seg, WriterBatch *batch)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "ecl", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "ecl_decision_writer_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "ecl decision log writer", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "ecl decision log writer", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		return -1;
	if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_POSTMASTER_DIED ||
		WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
		proc_exit(1);
	pg_read_barrier();
	return batch->written < 0 ? 0 : batch->written;
}

/*
 * Write the n records in buf, database by database.  Returns how many
 * records are left at the front of buf (no worker slot: next round).
 */
static int
write_batches(EclDecision *buf, int n)
{
	bool	   *done = palloc0(n * sizeof(bool));
	int			kept = 0;

	for (int first = 0; first < n; first++)
	{
		Oid			dbid;
		int			count = 0;
		dsm_segment *seg;
		WriterBatch *batch;
		int			written;

		if (done[first])
			continue;
		dbid = buf[first].dbid;
		for (int i = first; i < n; i++)
			if (!done[i] && buf[i].dbid == dbid)
				count++;

		seg = dsm_create(offsetof(WriterBatch, records) + count * sizeof(EclDecision), 0);
		batch = dsm_segment_address(seg);
		batch->dbid = dbid;
		batch->count = 0;
		batch->written = -1;
		for (int i = first; i < n; i++)
			if (!done[i] && buf[i].dbid == dbid)
				memcpy(&batch->records[batch->count++], &buf[i], sizeof(EclDecision));

		written = run_writer(seg, batch);
		dsm_detach(seg);
		if (written < 0)
		{
			/* keep this database's records, in order, for the next round */
			for (int i = first; i < n; i++)
				if (!done[i] && buf[i].dbid == dbid)
				{
					done[i] = true;
					if (kept != i)
						memmove(&buf[kept], &buf[i], sizeof(EclDecision));
					kept++;
				}
			continue;
		}
		for (int i = first; i < n; i++)
			if (buf[i].dbid == dbid)
				done[i] = true;
		if (written < count)
			ereport(LOG,
					(errmsg("ecl decision log: %d of %d decisions of database %u were not written",
							count - written, count, dbid)));
		elog(DEBUG1, "ecl decision log: database %u, %d of %d decisions written", dbid, written, count);
		ecl_stats_add_decisions(dbid, written, count - written);
	}
	pfree(done);
	return kept;
}

static void
forget_launcher(int code, Datum arg)
{
	ecl_decision_queue_set_launcher(NULL);
}

void
ecl_decision_launcher_main(Datum arg)
{
	EclDecision *buf;
	int			capacity = ecl_decision_log_queue_size;
	int			n = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	/* the postmaster says a writer has stopped with SIGUSR1: set our latch */
	pqsignal(SIGUSR1, procsignal_sigusr1_handler);
	BackgroundWorkerUnblockSignals();

	buf = MemoryContextAllocHuge(TopMemoryContext, (Size) capacity * sizeof(EclDecision));
	ecl_decision_queue_set_launcher(MyLatch);
	on_shmem_exit(forget_launcher, (Datum) 0);

	for (;;)
	{
		bool		more;

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ecl_decision_log_flush_interval_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		do
		{
			int			before = n;

			CHECK_FOR_INTERRUPTS();
			if (ConfigReloadPending)
			{
				ConfigReloadPending = false;
				ProcessConfigFile(PGC_SIGHUP);
			}
			while (n < capacity && ecl_decision_dequeue(&buf[n]))
				n++;
			if (n == 0)
				break;
			n = write_batches(buf, n);
			/* a full round: go again at once, unless every batch was kept */
			more = (n == 0 && before == 0 && ecl_decision_queue_length() > 0);
		} while (more);
	}
}

/* --------------------------------------------------------------- a writer */

#define INSERT_DECISION \
	"INSERT INTO ecl.decision_log (at, datname, role, caller, policy, version, hash, " \
	"realm, input, input_digest, passed, message, sqlstate, gas, mana, duration_us, " \
	"query_id, shadow_disagreement) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, " \
	"$11, $12, $13, $14, $15, $16, $17, $18)"
#define INSERT_NARGS 18

#define TRIM_DECISIONS \
	"DELETE FROM ecl.decision_log WHERE at OPERATOR(pg_catalog.<) $1"

/* the log of this database exists (the extension, at a version that has it) */
static bool
decision_log_exists(void)
{
	Oid			nsp;

	if (!OidIsValid(get_extension_oid("ecl", true)))
		return false;
	nsp = get_namespace_oid("ecl", true);
	return OidIsValid(nsp) && OidIsValid(get_relname_relid("decision_log", nsp));
}

static Datum
text_or_null(const char *s, bool present, char *isnull)
{
	*isnull = present ? ' ' : 'n';
	return present ? CStringGetTextDatum(s) : (Datum) 0;
}

/* Fill one row's values from a record; the names are resolved now. */
void
ecl_decision_row(const EclDecision *d, const char *datname, Datum *values,
				 bool *nulls)
{
	char		n[EclDecisionRowColumns];
	char	   *role = GetUserNameFromId(d->roleid, true);
	int			c = 0;

	memset(n, ' ', sizeof(n));
	values[c++] = TimestampTzGetDatum(d->at);
	values[c] = datname != NULL
		? DirectFunctionCall1(namein, CStringGetDatum(datname)) : (Datum) 0;
	n[c++] = datname != NULL ? ' ' : 'n';
	values[c] = role != NULL
		? DirectFunctionCall1(namein, CStringGetDatum(role)) : (Datum) 0;
	n[c++] = role != NULL ? ' ' : 'n';
	values[c] = text_or_null(d->caller, d->flags & ECL_DECISION_HAS_CALLER, &n[c]);
	c++;
	values[c] = text_or_null(d->policy, d->flags & ECL_DECISION_HAS_POLICY, &n[c]);
	c++;
	values[c] = Int32GetDatum((int32) d->version);
	n[c++] = (d->flags & ECL_DECISION_HAS_VERSION) ? ' ' : 'n';
	values[c] = text_or_null(d->hash, d->flags & ECL_DECISION_HAS_VERSION, &n[c]);
	c++;
	values[c] = text_or_null(d->realm, d->flags & ECL_DECISION_HAS_REALM, &n[c]);
	c++;
	if (d->flags & ECL_DECISION_HAS_INPUT)
		values[c] = DirectFunctionCall1(jsonb_in, CStringGetDatum(d->input));
	n[c++] = (d->flags & ECL_DECISION_HAS_INPUT) ? ' ' : 'n';
	values[c] = text_or_null(d->input_digest, true, &n[c]);
	c++;
	values[c++] = BoolGetDatum(d->passed);
	values[c] = text_or_null(d->message, d->flags & ECL_DECISION_HAS_MESSAGE, &n[c]);
	c++;
	values[c] = text_or_null(d->sqlstate, d->flags & ECL_DECISION_HAS_SQLSTATE, &n[c]);
	c++;
	values[c++] = Int64GetDatum(d->gas);
	values[c++] = Int64GetDatum(d->mana);
	values[c++] = Int64GetDatum(d->duration_us);
	values[c] = Int64GetDatum(d->query_id);
	n[c++] = d->query_id != 0 ? ' ' : 'n';
	values[c] = BoolGetDatum(d->shadow_result == 2);
	n[c++] = d->shadow_result != 0 ? ' ' : 'n';
	Assert(c == EclDecisionRowColumns);
	for (int i = 0; i < c; i++)
		nulls[i] = (n[i] == 'n');
}

void
ecl_decision_writer_main(Datum arg)
{
	dsm_segment *seg;
	WriterBatch *batch;
	int			written = 0;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "ecl decision log writer");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ecl decision log writer: the batch is gone")));
	batch = dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(batch->dbid, InvalidOid, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "writing decisions to ecl.decision_log");

	if (!decision_log_exists())
		ereport(LOG,
				(errmsg("ecl decision log: database \"%s\" has no ecl.decision_log; %d decisions dropped",
						get_database_name(MyDatabaseId), batch->count)));
	else
	{
		Oid			argtypes[INSERT_NARGS] = {
			TIMESTAMPTZOID, NAMEOID, NAMEOID, TEXTOID, TEXTOID, INT4OID,
			TEXTOID, TEXTOID, JSONBOID, TEXTOID, BOOLOID, TEXTOID, TEXTOID,
			INT8OID, INT8OID, INT8OID, INT8OID, BOOLOID
		};
		char	   *datname = get_database_name(MyDatabaseId);
		SPIPlanPtr	plan = SPI_prepare(INSERT_DECISION, INSERT_NARGS, argtypes);
		MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext,
													  "ecl decision row",
													  ALLOCSET_DEFAULT_SIZES);

		if (plan == NULL)
			elog(ERROR, "ecl decision log: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		for (int i = 0; i < batch->count; i++)
		{
			Datum		values[INSERT_NARGS];
			bool		nulls[INSERT_NARGS];
			char		nullchars[INSERT_NARGS];
			MemoryContext old = MemoryContextSwitchTo(row_cxt);

			ecl_decision_row(&batch->records[i], datname, values, nulls);
			for (int c = 0; c < INSERT_NARGS; c++)
				nullchars[c] = nulls[c] ? 'n' : ' ';
			if (SPI_execute_plan(plan, values, nullchars, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "ecl decision log: insert failed");
			MemoryContextSwitchTo(old);
			MemoryContextReset(row_cxt);
		}
		written = batch->count;

		if (ecl_decision_log_retention_s > 0)
		{
			Oid			ts = TIMESTAMPTZOID;
			Datum		cutoff = TimestampTzGetDatum(
				TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											-(int64) ecl_decision_log_retention_s * 1000));

			if (SPI_execute_with_args(TRIM_DECISIONS, 1, &ts, &cutoff, NULL,
									  false, 0) != SPI_OK_DELETE)
				elog(ERROR, "ecl decision log: trimming failed");
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	/* only a committed batch counts as written */
	batch->written = written;
	pg_write_barrier();
	dsm_detach(seg);
	proc_exit(0);
}
