-- 70_state.sql — state-only execution (docs/host-and-state.md): snapshots of what a policy
-- could read, and simulated runs on the state-only host.
--
-- Privileges (docs/security.md):
--   snapshot                 ecl_admin and ecl_executor (it reads every
--                            table a policy reads, as the owner of schema ecl)
--   simulate, test_policy    ecl_executor and ecl_admin
-- None of them writes anything: no table, no event, no notification, no
-- statistics.  See docs/host-and-state.md.

-- ---------------------------------------------------------------------
-- ecl.snapshot: the state a run in realm could read, as jsonb
-- ---------------------------------------------------------------------
-- STABLE: all sections come from the statement's snapshot of the tables.
CREATE FUNCTION ecl.snapshot(realm text, dids text[] DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ecl_snapshot'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.snapshot(text, text[]) IS
'Identities, trust, credential validity, balances, the realm''s stores and the metrics (for the given DIDs, or all), in snapshot format version 1: the state ecl.simulate runs on';

-- ---------------------------------------------------------------------
-- ecl.simulate: a registered policy on the state-only host
-- ---------------------------------------------------------------------
CREATE TYPE ecl.simulation_result AS (
	passed		boolean,	-- the columns of ecl.run_result ...
	value		jsonb,
	message		text,
	gas_used	bigint,
	mana_used	bigint,
	duration_us	bigint,
	logs		text[],
	events		jsonb,		-- [{event, payload}] (only when passed)
	writes		jsonb		-- ... plus the change records the run would keep
);
COMMENT ON TYPE ecl.simulation_result IS
'ecl.run_result plus writes: [{op: put|delete|emit, ...}] in the order made, [] unless the run passed';

CREATE FUNCTION ecl.simulate(policy text, caller text, realm text,
							 input jsonb, state jsonb,
							 gas_limit bigint DEFAULT NULL,
							 mana_limit bigint DEFAULT NULL)
RETURNS ecl.simulation_result
AS 'MODULE_PATHNAME', 'ecl_simulate'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ecl.simulate(text, text, text, jsonb, jsonb, bigint, bigint) IS
'Run a registered policy on the state-only host: reads only state (ecl.snapshot format), writes nothing, counts nothing; returns what ecl.run_policy would plus the writes it would make';

-- ---------------------------------------------------------------------
-- ecl.test_policy: table-driven tests of a policy through ecl.simulate
-- ---------------------------------------------------------------------
-- cases: [{"caller": did, "realm": r, "input": {...}, "state": {...},
--          "expect": {"passed": b, "value": v, "message": m|null,
--                     "error": "SQLSTATE", "logs": [...], "events": [...],
--                     "writes": [...], "gas_used": n}}]
-- Every key is optional; state defaults to {} (an empty world), input to
-- {}, realm to the policy's.  Only the expectations given are checked.
CREATE FUNCTION ecl.test_policy(policy text, cases jsonb)
RETURNS TABLE(case_no int, ok boolean, detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	tc			jsonb;
	expect		jsonb;
	k			text;
	r			ecl.simulation_result;
	problems	text[];
	failed		boolean;
	err_state	text;
	err_text	text;
BEGIN
	IF cases IS NULL OR jsonb_typeof(cases) <> 'array' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'cases must be a JSON array of test cases';
	END IF;

	case_no := 0;
	FOR tc IN SELECT x.e FROM jsonb_array_elements(cases) WITH ORDINALITY AS x(e, n)
			  ORDER BY x.n
	LOOP
		case_no := case_no + 1;
		IF jsonb_typeof(tc) <> 'object' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('cases[%s] must be a JSON object', case_no - 1);
		END IF;
		FOR k IN SELECT jsonb_object_keys(tc) LOOP
			IF k NOT IN ('caller', 'realm', 'input', 'state', 'expect', 'name') THEN
				RAISE EXCEPTION USING ERRCODE = '22023',
					MESSAGE = format('cases[%s].%s is not a test case field (caller, realm, input, state, expect, name)',
									 case_no - 1, k);
			END IF;
		END LOOP;
		expect := coalesce(tc -> 'expect', '{}');
		IF jsonb_typeof(expect) <> 'object' THEN
			RAISE EXCEPTION USING ERRCODE = '22023',
				MESSAGE = format('cases[%s].expect must be a JSON object', case_no - 1);
		END IF;
		FOR k IN SELECT jsonb_object_keys(expect) LOOP
			IF k NOT IN ('passed', 'value', 'message', 'error', 'logs', 'events',
						 'writes', 'gas_used') THEN
				RAISE EXCEPTION USING ERRCODE = '22023',
					MESSAGE = format('cases[%s].expect.%s is not an expectation (passed, value, message, error, logs, events, writes, gas_used)',
									 case_no - 1, k);
			END IF;
		END LOOP;

		problems := '{}';
		failed := false;
		BEGIN
			SELECT * INTO r
			  FROM ecl.simulate(test_policy.policy, tc ->> 'caller', tc ->> 'realm',
								coalesce(tc -> 'input', '{}'),
								coalesce(tc -> 'state', '{}'));
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE,
									err_text = MESSAGE_TEXT;
			failed := true;
		END;

		IF failed THEN
			IF expect ->> 'error' IS DISTINCT FROM err_state THEN
				problems := problems || format('error %s: %s', err_state, err_text);
			END IF;
		ELSE
			IF expect ? 'error' THEN
				problems := problems || format('error: expected %s, the run finished', expect ->> 'error');
			END IF;
			IF expect ? 'passed' AND (expect -> 'passed') IS DISTINCT FROM to_jsonb(r.passed) THEN
				problems := problems || format('passed: expected %s, got %s', expect -> 'passed', r.passed);
			END IF;
			IF expect ? 'value' AND (expect -> 'value') IS DISTINCT FROM r.value THEN
				problems := problems || format('value: expected %s, got %s', expect -> 'value', r.value);
			END IF;
			IF expect ? 'message' AND (expect -> 'message') IS DISTINCT FROM coalesce(to_jsonb(r.message), 'null') THEN
				problems := problems || format('message: expected %s, got %s', expect -> 'message',
											   coalesce(to_jsonb(r.message), 'null'));
			END IF;
			IF expect ? 'logs' AND (expect -> 'logs') IS DISTINCT FROM to_jsonb(r.logs) THEN
				problems := problems || format('logs: expected %s, got %s', expect -> 'logs', to_jsonb(r.logs));
			END IF;
			IF expect ? 'events' AND (expect -> 'events') IS DISTINCT FROM r.events THEN
				problems := problems || format('events: expected %s, got %s', expect -> 'events', r.events);
			END IF;
			IF expect ? 'writes' AND (expect -> 'writes') IS DISTINCT FROM r.writes THEN
				problems := problems || format('writes: expected %s, got %s', expect -> 'writes', r.writes);
			END IF;
			IF expect ? 'gas_used' AND (expect -> 'gas_used') IS DISTINCT FROM to_jsonb(r.gas_used) THEN
				problems := problems || format('gas_used: expected %s, got %s', expect -> 'gas_used', r.gas_used);
			END IF;
		END IF;

		ok := cardinality(problems) = 0;
		detail := CASE WHEN ok THEN 'ok' ELSE array_to_string(problems, '; ') END;
		IF tc ? 'name' THEN
			detail := format('%s: %s', tc ->> 'name', detail);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION ecl.test_policy(text, jsonb) IS
'Table-driven policy tests through ecl.simulate: one row per case, ok or what differed from expect';

-- ---------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION ecl.snapshot(text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.simulate(text, text, text, jsonb, jsonb, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.test_policy(text, jsonb) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION ecl.snapshot(text, text[]) TO ecl_admin, ecl_executor;
GRANT EXECUTE ON FUNCTION ecl.simulate(text, text, text, jsonb, jsonb, bigint, bigint)
	TO ecl_executor, ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.test_policy(text, jsonb) TO ecl_executor, ecl_admin;
