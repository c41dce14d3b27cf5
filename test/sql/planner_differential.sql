-- planner_differential — the translated SQL of a policy gives the VM's
-- answer and the VM's error (SQLSTATE) on every row.
--
-- Generated policies from the translatable subset (literals, input fields
-- of five SQL types, a missing field, input.x, caller, realm, trust.r,
-- has_credential, every operator, ternary, let, require with and without
-- message, if/else, return, falling off the end) x generated rows (NULLs,
-- zero, negative, large int8, empty strings, booleans).  Each pair is
-- evaluated twice, with ecl.translate on and off, and the two outcomes
-- (true / false / SQLSTATE) are compared.  The generator is seeded, so the
-- run is the same every time.
\set VERBOSITY terse
SELECT setseed(0.16);

CREATE TABLE pd_rows (
	id		int PRIMARY KEY,
	a		int,		-- number (int4)
	b		bigint,		-- number (int8)
	s		text,		-- string
	t		varchar,	-- string
	f		boolean,	-- bool
	caller	text,
	realm	text
);
INSERT INTO pd_rows
SELECT g,
	   (ARRAY[NULL, 0, 1, -3, 2, 500, 250, 899, 900, 7])[1 + g % 10],
	   (ARRAY[NULL, 0, 9007199254740993, -1, 2, 3])[1 + g % 6],
	   (ARRAY[NULL, '', 'x', 'did:key:u1', 'secret', 'b', 'x'])[1 + g % 7],
	   (ARRAY[NULL, '', 'x', 'a', 'secret'])[1 + (g / 3) % 5],
	   (ARRAY[NULL, true, false])[1 + (g / 2) % 3],
	   (ARRAY[NULL, 'did:key:u1', 'x', '', 'did:key:ur', 'did:key:ux', 'did:key:us',
			  'did:key:u9'])[1 + (g / 5) % 8],
	   (ARRAY[NULL, 'r1', ''])[1 + (g / 7) % 3]
  FROM generate_series(1, 48) g;

-- Callers of every kind the host tells apart: u1 trusted in realm r1 (not
-- globally) with a valid kyc credential; ur a revoked identity (trust and
-- credential lost); ux with only an expired and a revoked credential; us
-- with a credential whose signature does not verify; u9 unknown (the
-- default trust, no credential); 'x' and '' not DIDs.
INSERT INTO ecl.realms (realm_id) VALUES ('r1');
INSERT INTO ecl.identities (did, revoked) VALUES
	('did:key:u1', false), ('did:key:ur', true), ('did:key:ux', false), ('did:key:us', false);
INSERT INTO ecl.trust (did, realm_id, r) VALUES
	('did:key:u1', '', 0.3), ('did:key:u1', 'r1', 0.8), ('did:key:ur', '', 0.9),
	('did:key:ux', '', 0.6), ('did:key:us', '', 0.7);
INSERT INTO ecl.credentials (subject_did, schema, issuer_did, expires_at, revoked_at, signature) VALUES
	('did:key:u1', 'kyc', NULL, NULL, NULL, NULL),
	('did:key:ur', 'kyc', NULL, NULL, NULL, NULL),
	('did:key:ux', 'kyc', NULL, now() - interval '1 day', NULL, NULL),
	('did:key:ux', 'kyc', NULL, NULL, now() - interval '1 hour', NULL),
	('did:key:us', 'kyc', 'did:key:u1', NULL, NULL, decode(repeat('ab', 64), 'hex'));

CREATE FUNCTION pd_pick(VARIADIC xs text[]) RETURNS text
LANGUAGE sql VOLATILE AS $$ SELECT xs[1 + floor(random() * array_length(xs, 1))::int] $$;

CREATE FUNCTION pd_expr(depth int) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	k float8 := random();
BEGIN
	IF depth <= 0 OR k < 0.3 THEN
		RETURN pd_pick('0', '1', '2.5', '500', '900', '"x"', '""', '"secret"',
					   '"did:key:u1"', 'true', 'false', 'null', 'a', 'a', 'b', 's', 's',
					   't', 'f', 'f', 'm', 'input.a', 'input.m', 'input.s', 'caller',
					   'caller', 'realm', 'trust.r', 'v',
					   'has_credential(caller, "kyc")');
	ELSIF k < 0.4 THEN
		RETURN pd_pick('!', '-') || '(' || pd_expr(depth - 1) || ')';
	ELSIF k < 0.92 THEN
		RETURN '(' || pd_expr(depth - 1) || ' ' ||
			pd_pick('+', '-', '*', '/', '%', '==', '==', '!=', '<', '<=', '>', '>=',
					'&&', '&&', '||', '||') ||
			' ' || pd_expr(depth - 1) || ')';
	ELSE
		RETURN '(' || pd_expr(depth - 1) || ' ? ' || pd_expr(depth - 1) || ' : ' ||
			pd_expr(depth - 1) || ')';
	END IF;
END $$;

CREATE FUNCTION pd_stmt() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	k float8 := random();
BEGIN
	IF k < 0.35 THEN
		RETURN 'require ' || pd_expr(3);
	ELSIF k < 0.55 THEN
		RETURN 'require ' || pd_expr(3) || ', "no"';
	ELSIF k < 0.8 THEN
		RETURN 'if ' || pd_expr(2) || ' { return ' || pd_expr(2) || ' }';
	ELSE
		RETURN 'if ' || pd_expr(2) || ' { require ' || pd_expr(2) ||
			' } else { return ' || pd_expr(2) || ' }';
	END IF;
END $$;

-- One outcome: 'true', 'false' or the SQLSTATE of the error.
CREATE FUNCTION pd_outcome(policy text, row_id int, translate bool) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r boolean;
BEGIN
	PERFORM set_config('ecl.translate', translate::text, true);
	EXECUTE format($q$SELECT ecl.check(%L, p.caller, p.realm,
				jsonb_build_object('a', p.a, 'b', p.b, 's', p.s, 't', p.t, 'f', p.f))
			  FROM pd_rows p WHERE p.id = $1$q$, policy)
		INTO r USING row_id;
	RETURN r::text;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;

-- translated when the plan no longer calls ecl.check
CREATE FUNCTION pd_plan_calls_vm(policy text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	line text;
	found bool := false;
BEGIN
	FOR line IN EXECUTE format($q$EXPLAIN (VERBOSE, COSTS OFF) SELECT ecl.check(%L, p.caller, p.realm,
				jsonb_build_object('a', p.a, 'b', p.b, 's', p.s, 't', p.t, 'f', p.f)) FROM pd_rows p$q$, policy)
	LOOP
		found := found OR line LIKE '%ecl.check(%';
	END LOOP;
	RETURN found;
END $$;
CREATE TABLE pd_policies (name text PRIMARY KEY, source text, translated bool);
DO $$
DECLARE
	src text;
	name text;
BEGIN
	FOR i IN 1..70 LOOP
		name := 'pd_' || i;
		src := 'policy ' || name || E' {\n  let v = ' || pd_expr(2) || E'\n';
		FOR j IN 1..(1 + floor(random() * 3)::int) LOOP
			src := src || '  ' || pd_stmt() || E'\n';
		END LOOP;
		IF random() < 0.6 THEN
			src := src || '  return ' || pd_expr(3) || E'\n';
		END IF;
		src := src || '}';
		BEGIN
			PERFORM ecl.register_policy(name, src);
			INSERT INTO pd_policies VALUES (name, src, NOT pd_plan_calls_vm(name));
		EXCEPTION WHEN OTHERS THEN
			NULL;			-- a source the compiler rejects: not a case
		END;
	END LOOP;
END $$;

-- trust and credential of the row's caller, all the host's rules at once
SELECT ecl.register_policy('pd_facts', 'policy pd_facts { return trust.r >= 0.5 && has_credential(caller, "kyc") }');

CREATE TABLE pd_results AS
SELECT p.name, r.id,
	   pd_outcome(p.name, r.id, true) AS translated_outcome,
	   pd_outcome(p.name, r.id, false) AS vm_outcome
  FROM pd_policies p CROSS JOIN pd_rows r;

-- enough cases, most policies translated, every kind of outcome exercised
SELECT count(*) >= 3000 AS thousands_of_cases,
	   (SELECT count(*) FILTER (WHERE translated) >= 0.7 * count(*) FROM pd_policies) AS mostly_translated,
	   count(*) FILTER (WHERE vm_outcome = 'true') > 100 AS some_pass,
	   count(*) FILTER (WHERE vm_outcome = 'false') > 100 AS some_deny,
	   count(*) FILTER (WHERE vm_outcome = 'EC006') > 100 AS some_type_errors,
	   count(*) FILTER (WHERE vm_outcome = '22012') > 0 AS some_division_by_zero
  FROM pd_results;

-- translated with the caller a column: only u1 in realm r1 passes (the
-- revoked identity, the expired, revoked and badly signed credentials, the
-- unknown DID and the global trust of u1 all fail), and the VM agrees
SELECT DISTINCT caller, realm FROM pd_rows
 WHERE ecl.check('pd_facts', caller, realm) ORDER BY 1, 2;
SELECT count(*) AS translated_differs_from_vm FROM pd_rows p
 WHERE ecl.check('pd_facts', p.caller, p.realm) IS DISTINCT FROM
	   pd_outcome('pd_facts', p.id, false)::boolean;

-- the point: no row where the two differ
SELECT r.name, r.id, r.translated_outcome, r.vm_outcome, p.source
  FROM pd_results r JOIN pd_policies p USING (name)
 WHERE r.translated_outcome IS DISTINCT FROM r.vm_outcome
 ORDER BY r.name, r.id
 LIMIT 10;

DO $$ DECLARE n text; BEGIN
	FOR n IN SELECT name FROM pd_policies LOOP PERFORM ecl.drop_policy(n); END LOOP;
	PERFORM ecl.drop_policy('pd_facts');
END $$;
DROP TABLE pd_results, pd_policies, pd_rows;
DELETE FROM ecl.credentials WHERE subject_did IN ('did:key:u1', 'did:key:ur', 'did:key:ux', 'did:key:us');
DELETE FROM ecl.trust WHERE did IN ('did:key:u1', 'did:key:ur', 'did:key:ux', 'did:key:us');
DELETE FROM ecl.identities WHERE did IN ('did:key:u1', 'did:key:ur', 'did:key:ux', 'did:key:us');
DELETE FROM ecl.realms WHERE realm_id = 'r1';
DROP FUNCTION pd_plan_calls_vm(text), pd_outcome(text, int, bool), pd_stmt(),
	pd_expr(int), pd_pick(text[]);
