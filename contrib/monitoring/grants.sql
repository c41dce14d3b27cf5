-- The role prometheus-postgres-exporter connects as, for ecl's statistics
-- (queries.yaml).  Run as a superuser; CREATE EXTENSION ecl must have run in
-- the database named in the exporter's DATA_SOURCE_NAME.
--
-- pg_monitor includes pg_read_all_stats, which may read the ecl.stat_eclvm*
-- views (and their functions) and sees every database's rows there; it also
-- covers the exporter's built-in PostgreSQL metrics.  The role gets nothing
-- else of ecl: not ecl_admin (which could reset the statistics and change
-- policies), not ecl_executor.
CREATE ROLE prometheus LOGIN;
GRANT pg_monitor TO prometheus;
