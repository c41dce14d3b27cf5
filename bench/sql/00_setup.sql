-- 00_setup.sql — extensions and the bookkeeping tables of the benchmark.
CREATE EXTENSION ecl;
CREATE EXTENSION pllua;
CREATE SCHEMA bench;

-- one row per timed query (rep 0 = warm-up)
CREATE TABLE bench.timings (
	bench	text NOT NULL,
	peer	text NOT NULL,
	rep		int NOT NULL,
	ms		float8 NOT NULL,
	n		text
);

-- the rows of the printed table, in order
CREATE TABLE bench.results (
	ord		serial,
	bench	text NOT NULL,
	peer	text NOT NULL,
	figure	text NOT NULL,			-- median ms, tps, MB, ...
	ratio	text,					-- vs ECL
	target	text,
	met		text,
	note	text
);

-- A subject DID of the fixed data set: did:bench:00001 ... did:bench:10000
CREATE FUNCTION bench.did(i int) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 'did:bench:' || lpad(i::text, 5, '0') $$;
