/*
 * stats_file.c — keep the ECLVM statistics across a clean restart.
 *
 * The postmaster writes pg_stat/ecl_stats.stat when it shuts down cleanly
 * (on_shmem_exit with exit code 0) and reads it back when it creates the
 * shared memory, then deletes it.  So a server that crashes after startup
 * finds no file and starts from zero instead of from stale counters.
 *
 * Format (native byte order; the file never leaves its cluster):
 *   header   magic, version, the layout constants below, row counts
 *   body     database rows (dbid, stats_reset, global and per-kind
 *            counters), realm rows, policy rows (keys start with the dbid)
 *   trailer  CRC-32C of header and body
 * The writer goes to a temporary file and renames it into place.  The
 * reader checks magic, version, layout, exact size and CRC before it
 * changes anything; a missing, short or corrupt file, or one of another
 * version, is ignored with a LOG message and never stops the server from
 * starting.
 *
 * Versions: 1 kept run time in microseconds; 2 in nanoseconds; 3 keys
 * everything by database.  A version-2 file has one set of counters for
 * the whole cluster, which cannot be split among the databases truthfully,
 * so it is not read: the LOG line names the file and both versions.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "stats_internal.h"

#define ECL_STATS_FILE "pg_stat/ecl_stats.stat"
#define ECL_STATS_FILE_TMP ECL_STATS_FILE ".tmp"
#define ECL_STATS_FILE_MAGIC 0x45434C53 /* "ECLS" */
#define ECL_STATS_FILE_VERSION 4	/* 3: per database; 4: shadow counts
										 * per policy, rows per version,
										 * translated_executions, decisions */

typedef struct EclStatsFileHeader
{
	uint32		magic;			/* these two first, in every version */
	uint32		version;
	/* layout: a build with different sizes must not read the rows */
	uint32		n_global;
	uint32		n_kinds;
	uint32		n_kind_counters;
	uint32		database_row_size;
	uint32		realm_row_size;
	uint32		policy_row_size;
	uint32		version_row_size;
	uint64		n_databases;
	uint64		n_realms;
	uint64		n_policies;
	uint64		n_versions;
} EclStatsFileHeader;

typedef struct EclDatabaseRow
{
	Oid			dbid;
	uint32		padding;
	int64		stats_reset;
	uint64		global[ECL_GC_COUNT];
	uint64		by_kind[ECL_KIND_COUNT][ECL_KC_COUNT];
} EclDatabaseRow;

typedef struct EclRealmRow
{
	EclRealmKey key;
	EclRealmCounters counters;
} EclRealmRow;

typedef struct EclPolicyRow
{
	EclPolicyKey key;
	EclPolicyCounters counters;
} EclPolicyRow;

typedef struct EclVersionRow
{
	EclVersionKey key;
	uint8		hash[ECL_STATS_HASH_BYTES];
	EclPolicyCounters counters;
} EclVersionRow;

static void
fill_layout(EclStatsFileHeader *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = ECL_STATS_FILE_MAGIC;
	h->version = ECL_STATS_FILE_VERSION;
	h->n_global = ECL_GC_COUNT;
	h->n_kinds = ECL_KIND_COUNT;
	h->n_kind_counters = ECL_KC_COUNT;
	h->database_row_size = sizeof(EclDatabaseRow);
	h->realm_row_size = sizeof(EclRealmRow);
	h->policy_row_size = sizeof(EclPolicyRow);
	h->version_row_size = sizeof(EclVersionRow);
}

/* ---------------------------------------------------------------------
 * Saving (postmaster, clean shutdown)
 * ---------------------------------------------------------------------
 */

static bool
write_chunk(FILE *f, pg_crc32c *crc, const void *data, size_t len)
{
	COMP_CRC32C(*crc, data, len);
	return fwrite(data, 1, len, f) == len;
}

void
ecl_stats_save_file(int code, Datum arg)
{
	FILE	   *f;
	EclStatsFileHeader h;
	pg_crc32c	crc;
	HASH_SEQ_STATUS seq;
	bool		ok = true;

	/* a crashing postmaster's memory is not trusted: save nothing */
	if (code != 0 || ecl_stats_shared == NULL)
		return;

	f = AllocateFile(ECL_STATS_FILE_TMP, PG_BINARY_W);
	if (f == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("ecl: could not write statistics file \"%s\": %m",
						ECL_STATS_FILE_TMP)));
		return;
	}

	fill_layout(&h);
	h.n_databases = hash_get_num_entries(ecl_stats_databases);
	h.n_realms = hash_get_num_entries(ecl_stats_realms);
	h.n_policies = hash_get_num_entries(ecl_stats_policies);
	h.n_versions = hash_get_num_entries(ecl_stats_versions);

	INIT_CRC32C(crc);
	ok = write_chunk(f, &crc, &h, sizeof(h));

	/* no other process is left, so the tables are read without locks */
	if (ok)
	{
		EclDatabaseEntry *e;
		uint64		n = 0;

		hash_seq_init(&seq, ecl_stats_databases);
		while ((e = hash_seq_search(&seq)) != NULL)
		{
			EclDatabaseRow row;

			memset(&row, 0, sizeof(row));
			row.dbid = e->dbid;
			row.stats_reset = (int64) e->stats_reset;
			for (int i = 0; i < ECL_GC_COUNT; i++)
				row.global[i] = pg_atomic_read_u64(&e->global[i]);
			for (int k = 0; k < ECL_KIND_COUNT; k++)
				for (int c = 0; c < ECL_KC_COUNT; c++)
					row.by_kind[k][c] = pg_atomic_read_u64(&e->by_kind[k][c]);
			if (ok && n < h.n_databases)
				ok = write_chunk(f, &crc, &row, sizeof(row));
			n++;
		}
		ok = ok && n == h.n_databases;
	}
	if (ok)
	{
		EclRealmEntry *e;
		uint64		n = 0;

		hash_seq_init(&seq, ecl_stats_realms);
		while ((e = hash_seq_search(&seq)) != NULL)
		{
			EclRealmRow row;

			memset(&row, 0, sizeof(row));
			row.key = e->key;
			row.counters = e->counters;
			if (ok && n < h.n_realms)
				ok = write_chunk(f, &crc, &row, sizeof(row));
			n++;
		}
		ok = ok && n == h.n_realms;
	}
	if (ok)
	{
		EclPolicyEntry *e;
		uint64		n = 0;

		hash_seq_init(&seq, ecl_stats_policies);
		while ((e = hash_seq_search(&seq)) != NULL)
		{
			EclPolicyRow row;

			memset(&row, 0, sizeof(row));
			row.key = e->key;
			row.counters = e->counters;
			if (ok && n < h.n_policies)
				ok = write_chunk(f, &crc, &row, sizeof(row));
			n++;
		}
		ok = ok && n == h.n_policies;
	}
	if (ok)
	{
		EclVersionEntry *e;
		uint64		n = 0;

		hash_seq_init(&seq, ecl_stats_versions);
		while ((e = hash_seq_search(&seq)) != NULL)
		{
			EclVersionRow row;

			memset(&row, 0, sizeof(row));
			row.key = e->key;
			memcpy(row.hash, e->hash, sizeof(row.hash));
			row.counters = e->counters;
			if (ok && n < h.n_versions)
				ok = write_chunk(f, &crc, &row, sizeof(row));
			n++;
		}
		ok = ok && n == h.n_versions;
	}
	FIN_CRC32C(crc);
	if (ok)
		ok = fwrite(&crc, 1, sizeof(crc), f) == sizeof(crc);

	if (FreeFile(f) != 0)
		ok = false;
	if (ok)
		ok = (durable_rename(ECL_STATS_FILE_TMP, ECL_STATS_FILE, LOG) == 0);
	if (!ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("ecl: could not save statistics to \"%s\"",
						ECL_STATS_FILE)));
		unlink(ECL_STATS_FILE_TMP);
	}
}

/* ---------------------------------------------------------------------
 * Loading (postmaster, shared memory just created)
 * ---------------------------------------------------------------------
 */

static void
reject(const char *why)
{
	ereport(LOG,
			(errmsg("ecl: ignoring statistics file \"%s\": %s",
					ECL_STATS_FILE, why),
			 errdetail("ECLVM statistics start from zero.")));
}

/*
 * Check the whole file in buf (len bytes).  Returns NULL when it is fine,
 * else why not.
 */
static const char *
validate(const char *buf, size_t len, const EclStatsFileHeader **hp)
{
	EclStatsFileHeader expect;
	const EclStatsFileHeader *h = (const EclStatsFileHeader *) buf;
	pg_crc32c	crc;
	pg_crc32c	stored;
	size_t		fixed = sizeof(EclStatsFileHeader) + sizeof(pg_crc32c);

	/* magic and version are where every version has them */
	if (len < 2 * sizeof(uint32))
		return "file is too short";
	if (h->magic != ECL_STATS_FILE_MAGIC)
		return "not an ecl statistics file";
	if (h->version != ECL_STATS_FILE_VERSION)
	{
		if (h->version == 2)
			return psprintf("written in statistics file version 2 (one set of counters for all databases), "
							"this ecl reads version %u",
							ECL_STATS_FILE_VERSION);
		return psprintf("written in statistics file version %u, this ecl reads version %u",
						h->version, ECL_STATS_FILE_VERSION);
	}
	if (len < sizeof(EclStatsFileHeader))
		return "file is too short";
	fill_layout(&expect);
	if (h->n_global != expect.n_global || h->n_kinds != expect.n_kinds ||
		h->n_kind_counters != expect.n_kind_counters ||
		h->database_row_size != expect.database_row_size ||
		h->realm_row_size != expect.realm_row_size ||
		h->policy_row_size != expect.policy_row_size ||
		h->version_row_size != expect.version_row_size)
		return "written by a build with another layout";
	if (len < fixed ||
		h->n_databases > (len - fixed) / sizeof(EclDatabaseRow) ||
		h->n_realms > (len - fixed) / sizeof(EclRealmRow) ||
		h->n_policies > (len - fixed) / sizeof(EclPolicyRow) ||
		h->n_versions > (len - fixed) / sizeof(EclVersionRow) ||
		len != fixed + h->n_databases * sizeof(EclDatabaseRow) +
		h->n_realms * sizeof(EclRealmRow) +
		h->n_policies * sizeof(EclPolicyRow) +
		h->n_versions * sizeof(EclVersionRow))
		return "file is truncated or has trailing data";

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf, len - sizeof(pg_crc32c));
	FIN_CRC32C(crc);
	memcpy(&stored, buf + len - sizeof(pg_crc32c), sizeof(stored));
	if (!EQ_CRC32C(crc, stored))
		return "checksum mismatch";
	*hp = h;
	return NULL;
}

typedef struct RowRef
{
	const char *row;			/* unaligned, inside the file buffer */
	int64		calls;
} RowRef;

static int
compare_busiest_first(const void *a, const void *b)
{
	int64		ca = ((const RowRef *) a)->calls;
	int64		cb = ((const RowRef *) b)->calls;

	return (ca < cb) - (ca > cb);
}

/*
 * Sort n rows of row_size bytes starting at p by their call counter (at
 * calls_offset), busiest first, so that a table smaller than the saved one
 * (ecl.max_tracked lowered) keeps the busiest rows.
 */
static RowRef *
rows_busiest_first(const char *p, uint64 n, Size row_size, Size calls_offset)
{
	RowRef	   *refs = palloc(Max(n, 1) * sizeof(RowRef));

	for (uint64 i = 0; i < n; i++)
	{
		refs[i].row = p + i * row_size;
		memcpy(&refs[i].calls, refs[i].row + calls_offset, sizeof(int64));
	}
	qsort(refs, n, sizeof(RowRef), compare_busiest_first);
	return refs;
}

/*
 * Put validated contents into the (freshly created, empty) shared state.
 * Returns the number of rows kept in *realms and *policies.
 */
static void
apply(const char *buf, const EclStatsFileHeader *h, uint64 *databases,
	  uint64 *realms, uint64 *policies)
{
	const char *p = buf + sizeof(EclStatsFileHeader);
	RowRef	   *refs;

	*databases = 0;
	refs = rows_busiest_first(p, h->n_databases, sizeof(EclDatabaseRow),
							  offsetof(EclDatabaseRow, global) +
							  ECL_GC_POLICIES_EXECUTED * sizeof(uint64));
	for (uint64 i = 0; i < h->n_databases && *databases < (uint64) ecl_stats_max_rows(); i++)
	{
		EclDatabaseRow row;
		EclDatabaseEntry *e;

		memcpy(&row, refs[i].row, sizeof(row));
		e = ecl_stats_enter_database(row.dbid);
		if (e != NULL)
		{
			e->stats_reset = (TimestampTz) row.stats_reset;
			for (int j = 0; j < ECL_GC_COUNT; j++)
				pg_atomic_write_u64(&e->global[j], row.global[j]);
			for (int k = 0; k < ECL_KIND_COUNT; k++)
				for (int c = 0; c < ECL_KC_COUNT; c++)
					pg_atomic_write_u64(&e->by_kind[k][c], row.by_kind[k][c]);
			(*databases)++;
		}
	}
	pfree(refs);
	p += h->n_databases * sizeof(EclDatabaseRow);

	*realms = 0;
	refs = rows_busiest_first(p, h->n_realms, sizeof(EclRealmRow),
							  offsetof(EclRealmRow, counters.executed));
	for (uint64 i = 0; i < h->n_realms && *realms < (uint64) ecl_stats_max_rows(); i++)
	{
		EclRealmRow row;
		EclRealmEntry *e;

		memcpy(&row, refs[i].row, sizeof(row));
		e = ecl_stats_enter_realm(&row.key);
		if (e != NULL)
		{
			e->counters = row.counters;
			(*realms)++;
		}
	}
	pfree(refs);
	p += h->n_realms * sizeof(EclRealmRow);

	*policies = 0;
	refs = rows_busiest_first(p, h->n_policies, sizeof(EclPolicyRow),
							  offsetof(EclPolicyRow, counters.calls));
	for (uint64 i = 0; i < h->n_policies && *policies < (uint64) ecl_stats_max_rows(); i++)
	{
		EclPolicyRow row;
		EclPolicyEntry *e;

		memcpy(&row, refs[i].row, sizeof(row));
		e = ecl_stats_enter_policy(&row.key);
		if (e != NULL)
		{
			e->counters = row.counters;
			(*policies)++;
		}
	}
	pfree(refs);
	p += h->n_policies * sizeof(EclPolicyRow);

	/* the versions' rows follow the same rule, silently */
	refs = rows_busiest_first(p, h->n_versions, sizeof(EclVersionRow),
							  offsetof(EclVersionRow, counters.calls));
	for (uint64 i = 0, kept = 0; i < h->n_versions && kept < (uint64) ecl_stats_max_rows(); i++)
	{
		EclVersionRow row;
		EclVersionEntry *e;

		memcpy(&row, refs[i].row, sizeof(row));
		e = ecl_stats_enter_version(&row.key);
		if (e != NULL)
		{
			memcpy(e->hash, row.hash, sizeof(row.hash));
			e->counters = row.counters;
			kept++;
		}
	}
	pfree(refs);
}

void
ecl_stats_load_file(void)
{
	FILE	   *f;
	struct stat st;
	char	   *buf = NULL;
	const EclStatsFileHeader *h = NULL;
	const char *why;
	uint64		databases;
	uint64		realms;
	uint64		policies;

	f = AllocateFile(ECL_STATS_FILE, PG_BINARY_R);
	if (f == NULL)
	{
		if (errno == ENOENT)
			ereport(LOG,
					(errmsg("ecl: no saved statistics file \"%s\"; ECLVM statistics start from zero",
							ECL_STATS_FILE)));
		else
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("ecl: could not open statistics file \"%s\": %m",
							ECL_STATS_FILE)));
		goto done;
	}
	if (fstat(fileno(f), &st) != 0)
	{
		reject("cannot stat it");
		goto done;
	}
	if (st.st_size <= 0 || (uint64) st.st_size > MaxAllocHugeSize)
	{
		reject("file has an impossible size");
		goto done;
	}
	buf = palloc_extended(st.st_size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (buf == NULL)
	{
		reject("out of memory");
		goto done;
	}
	if (fread(buf, 1, st.st_size, f) != (size_t) st.st_size)
	{
		reject("file could not be read completely");
		goto done;
	}
	why = validate(buf, st.st_size, &h);
	if (why != NULL)
	{
		reject(why);
		goto done;
	}
	apply(buf, h, &databases, &realms, &policies);
	if (databases < h->n_databases || realms < h->n_realms ||
		policies < h->n_policies)
		ereport(LOG,
				(errmsg("ecl: restored ECLVM statistics (%llu database rows, %llu realm rows, %llu policy rows)",
						(unsigned long long) databases,
						(unsigned long long) realms,
						(unsigned long long) policies),
				 errdetail("%llu database rows, %llu realm rows and %llu policy rows with the fewest calls did not fit in ecl.max_tracked = %ld.",
						   (unsigned long long) (h->n_databases - databases),
						   (unsigned long long) (h->n_realms - realms),
						   (unsigned long long) (h->n_policies - policies),
						   ecl_stats_max_rows())));
	else
		ereport(LOG,
				(errmsg("ecl: restored ECLVM statistics (%llu database rows, %llu realm rows, %llu policy rows)",
						(unsigned long long) databases,
						(unsigned long long) realms,
						(unsigned long long) policies)));

done:
	if (buf != NULL)
		pfree(buf);
	if (f != NULL)
		FreeFile(f);
	/* never reuse a file: after a crash, stale counters would come back */
	unlink(ECL_STATS_FILE);
}
