--
-- State-only execution (docs/host-and-state.md), the property:
--   ecl.simulate(p, c, r, i, ecl.snapshot(r)) gives the same passed, value,
--   message, gas_used and mana_used (and logs, events, the same error when
--   the run fails) as ecl.run_policy(p, c, r, i)
-- and the writes it reports are exactly what run_policy then did to the
-- store.  Each comparison runs in one transaction: snapshot, simulate (which
-- must leave the snapshot unchanged: no table, no statistics), run_policy,
-- snapshot again.  Printed are only counts and differences; random DIDs are
-- bound with \gset and never shown.
--
\set VERBOSITY terse

-- ----------------------------------------------------------------- data
-- alice: a did:key identity with trust in st-realm and globally, a balance
-- and credentials of every kind; bob: global trust only (and a row in
-- st-other); carol: revoked, realm trust, a balance and credentials (as a
-- subject); erin: revoked after issuing credentials to alice and bob, with
-- global trust, a balance and a credential of her own (a revoked caller,
-- subject and issuer); dave: registered, nothing else;
-- did:regress:st-nobody is not registered at all.  A revoked identity has
-- zero trust, no credentials and a balance of 0 on both hosts.
SELECT did AS issuer, secret_key AS issuer_sk FROM ecl.generate_identity() \gset
SELECT did AS erin, secret_key AS erin_sk FROM ecl.generate_identity() \gset
SELECT did AS alice FROM ecl.generate_identity() \gset
INSERT INTO ecl.identities (did) VALUES
	('did:regress:st-bob'), ('did:regress:st-carol'), ('did:regress:st-dave');
UPDATE ecl.identities SET revoked = true WHERE did = 'did:regress:st-carol';
INSERT INTO ecl.realms (realm_id) VALUES ('st-realm'), ('st-other');

INSERT INTO ecl.trust (did, realm_id, r, i, c, p, v, omega) VALUES
	(:'alice', 'st-realm', 0.8, 0.7, 0.30000000000000004, 0.6, 0.9, 0.55),
	(:'alice', '', 0.2, 0.25, 0.2, 0.2, 0.2, 0.1),
	('did:regress:st-bob', '', 0.55, 0.1, 0.9, 0.4, 0.5, 0.123456789012345678),
	('did:regress:st-bob', 'st-other', 1, 1, 1, 1, 1, 1),
	('did:regress:st-carol', 'st-realm', 0.9, 0.9, 0.9, 0.9, 0.9, 0.9),
	(:'erin', '', 0.95, 0.9, 0.85, 0.8, 0.75, 0.7);
INSERT INTO ecl.balances (did, amount) VALUES
	(:'alice', 250.5), ('did:regress:st-bob', 0.1), ('did:regress:st-carol', -3e-7),
	(:'erin', 900);

-- alice: kyc (signed, valid), old (expired), gone (revoked), forged (bad
-- signature), plain (unsigned); bob: kyc (unsigned)
SELECT ecl.issue_credential(:'alice', 'kyc', :'issuer', :'issuer_sk',
							now() + interval '1 day') IS NOT NULL AS issued_kyc;
SELECT ecl.issue_credential(:'alice', 'old', :'issuer', :'issuer_sk',
							now() - interval '1 day') IS NOT NULL AS issued_old;
SELECT ecl.issue_credential(:'alice', 'gone', :'issuer', :'issuer_sk') AS gone \gset
UPDATE ecl.credentials SET revoked_at = now() - interval '1 hour' WHERE id = :gone;
SELECT ecl.issue_credential(:'alice', 'forged', :'issuer', :'issuer_sk') AS forged \gset
UPDATE ecl.credentials SET signature = set_byte(signature, 10, get_byte(signature, 10) # 1)
 WHERE id = :forged;
INSERT INTO ecl.credentials (subject_did, schema) VALUES
	(:'alice', 'plain'), ('did:regress:st-bob', 'kyc');
-- erin vouches for alice (signed) and bob (unsigned), then is revoked;
-- carol and erin hold a signed kyc and an unsigned plain of their own
SELECT ecl.issue_credential(:'alice', 'vouched', :'erin', :'erin_sk') IS NOT NULL AS issued_vouched;
INSERT INTO ecl.credentials (subject_did, schema, issuer_did) VALUES
	('did:regress:st-bob', 'vouched', :'erin');
SELECT count(ecl.issue_credential(s, 'kyc', :'issuer', :'issuer_sk')) AS issued_revoked_kyc
  FROM unnest(ARRAY['did:regress:st-carol', :'erin']) AS s;
INSERT INTO ecl.credentials (subject_did, schema) VALUES
	('did:regress:st-carol', 'plain'), (:'erin', 'plain');
UPDATE ecl.identities SET revoked = true WHERE did = :'erin';

-- stores: shared and personal entries in st-realm, a shared one elsewhere;
-- keys chosen so that bytewise order differs from jsonb's key order
INSERT INTO ecl.store (realm_id, store_name, owner_did, key, value) VALUES
	('st-realm', 'cfg', '', 'limit', '100'),
	('st-realm', 'cfg', '', 'doc', '{"title": "T", "tags": ["a", "b"], "n": null}'),
	('st-realm', 'cfg', '', 'list', '[1, 2]'),
	('st-realm', 'cfg', '', 'k:10', '0.1'),
	('st-realm', 'cfg', '', 'k:9', '"nine"'),
	('st-realm', 'cfg', '', 'kk', 'true'),
	('st-realm', 'cfg', '', 'K', 'null'),
	('st-realm', 'cfg', '', 'a', '1e-7'),
	('st-realm', 'cfg', '', 'b', '12345678901234567890'),
	('st-realm', 'cfg', '', 'é', '"accent"'),
	('st-realm', 'prefs', :'alice', 'theme', '"dark"'),
	('st-realm', 'prefs', 'did:regress:st-bob', 'theme', '"light"'),
	('st-realm', 'prefs', 'did:regress:st-bob', 'size', '3'),
	('st-other', 'cfg', '', 'limit', '999'),
	('', 'cfg', '', 'limit', '7');

-- --------------------------------------------------------------- policies
-- Hand-written policies, one or two features each.  Inputs carry amount,
-- other (a DID), kind (which value to return) and zero.
CREATE TEMP TABLE st_sources (name text PRIMARY KEY, source text);
INSERT INTO st_sources VALUES
('st_trust', $$policy st_trust {
    return [trust, trust.r, trust.omega, load_trust(other), other.trust.c, trust_norm(trust)]
}$$),
('st_credentials', $$policy st_credentials {
    return [has_credential(caller, "kyc"), has_credential(caller, "old"),
            has_credential(caller, "gone"), has_credential(caller, "forged"),
            has_credential(caller, "plain"), has_credential(caller, "nope"),
            has_credential(caller, "vouched"), other.credential("kyc")]
}$$),
('st_identity', $$policy st_identity {
    require resolve_did(caller), "unknown caller"
    return {balance: get_balance(caller), other: resolve_did(other), other_balance: get_balance(other)}
}$$),
('st_transfer', $$policy st_transfer {
    require trust.r >= 0.5, "reliability too low"
    let limit = trust.r * 1000
    require amount <= limit, "amount exceeds trust-based limit"
    if amount > 100 {
        require has_credential(caller, "kyc"), "KYC required"
    } else if amount > 50 {
        log("medium transfer")
    } else {
        emit "small_transfer", {amount: amount}
    }
    return amount * trust.r
}$$),
('st_store_read', $$policy st_store_read {
    return [store_get("cfg", "limit"), store_get("cfg", "doc"), store_get("cfg", "b"),
            store_get("cfg", "a"), store_get("cfg", "nope"), store_get_nested("cfg", "doc", "tags.1"),
            store_get_nested("cfg", "doc", ["title"]), store_count("cfg"),
            store_exists("cfg"), store_exists("nothing"), store_count("nothing")]
}$$),
('st_personal_read', $$policy st_personal_read {
    return [store_get("prefs", "theme", true), store_count("prefs", true),
            store_exists("prefs", true), store_get("prefs", "theme")]
}$$),
('st_store_write', $$policy st_store_write {
    let n = store_count("counter")
    store_put("counter", "k" + n, n)
    let after = store_count("counter")
    let appended = store_append_list("log", "entries", amount)
    store_put_nested("cfg", "doc2", "meta.by", kind)
    let deleted = store_delete("cfg", "b")
    let deleted_again = store_delete("cfg", "b")
    return [n, after, store_get("counter", "k" + n), appended,
            store_get_nested("cfg", "doc2", "meta.by"), deleted, deleted_again,
            store_exists("log"), store_count("cfg")]
}$$),
('st_list_keys', $$policy st_list_keys {
    store_put("cfg", "k:5", amount)
    store_delete("cfg", "kk")
    return [store_list_keys("cfg"), store_list_keys("cfg", "k"),
            store_list_keys("cfg", "k", 2), store_list_keys("cfg", "", 0),
            store_list_keys("empty"), store_list_keys("prefs")]
}$$),
('st_personal_write', $$policy st_personal_write {
    store_put("prefs", "seen", amount, true)
    let had = store_delete("prefs", "theme", true)
    return [had, store_get("prefs", "theme", true), store_get("prefs", "seen", true),
            store_count("prefs", true), store_exists("prefs", true), store_list_keys("prefs")]
}$$),
('st_emit_deny', $$policy st_emit_deny {
    emit "attempt", {who: caller, amount: amount}
    store_put("cfg", "attempted", amount)
    require amount < 60, "amount too large"
    emit "done"
    return "done"
}$$),
('st_logs_metrics', $$policy st_logs_metrics {
    log("start")
    log(caller)
    return [get_metric("policies_executed"), get_metric("realm.policies_executed"),
            get_metric("policy_success_rate"), get_metric("avg_evaluation_time_us"),
            get_metric("total_gas_consumed"), get_metric("total_time_us"),
            get_metric("realm.success_rate"), get_metric("no_such_metric")]
}$$),
('st_values', $$policy st_values {
    if kind == "null" { return null }
    if kind == "string" { return "s" + amount }
    if kind == "number" { return amount / 3 }
    if kind == "object" { return {a: [1, {b: null}], t: trust, c: caller} }
    if kind == "false" { return false }
    if kind == "empty" { return "" }
    return [true, caller, trust_create(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]
}$$),
('st_time', $$policy st_time {
    return [get_timestamp(), time_since(0) > 0, time_since(get_timestamp())]
}$$),
('st_errors', $$policy st_errors {
    if kind == "number" { return amount / zero }
    if kind == "string" { return amount < "x" }
    if kind == "null" { return missing_field }
    return store_get("prefs", "theme", true)
}$$),
('st_fall_off', $$policy st_fall_off {
    log("only a log")
}$$),
('st_require_plain', $$policy st_require_plain {
    require amount > 60
    return amount
}$$),
('st_short_circuit', $$policy st_short_circuit {
    return resolve_did(other) && other.trust.r > 0.5
}$$),
('st_append', $$policy st_append {
    let n = store_append_list("cfg", "list", amount)
    store_put_nested("cfg", "doc", "meta.count", n)
    return [n, store_get("cfg", "list"), store_get("cfg", "doc")]
}$$),
('st_large_write', $$policy st_large_write {
    let s = "w" + amount
    for i in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] { s = s + s }
    store_put("big", "k" + n_in, s)
    store_put_nested("big", "doc", "a.b", s)
    let n = store_append_list("big", "list", s)
    emit "big", {s: s}
    return [str_len(s), n]
}$$),
('st_append_error', $$policy st_append_error {
    return store_append_list("cfg", "limit", 1)
}$$),
('st_loop', $$policy st_loop {
    let total = 0
    for k in store_list_keys("cfg", "k") {
        store_put("seen", k, true)
        total = total + 1
    }
    return [total, store_count("seen"), store_list_keys("seen")]
}$$);

SELECT count(ecl.register_policy(name, source)) AS registered FROM st_sources;

-- A generated family: lookup × threshold × action, every combination of
-- 8 lookups and 6 actions with thresholds spread over them (48 policies).
CREATE TEMP TABLE st_generated AS
SELECT format('st_gen_%s', n) AS name,
	   format($$policy st_gen_%s {
    let a = %s
    %s
    require a >= %s, "gen %s: below %s"
    return {score: a, n: %s}
}$$, n,
			  (ARRAY['trust.r', 'trust.i', 'load_trust(other).r', 'get_balance(caller) / 1000',
					 'trust_norm(trust)', 'has_credential(caller, "kyc") ? 1 : 0',
					 'resolve_did(other) ? 0.9 : 0.1', 'store_count("cfg") / 20'])[1 + n % 8],
			  (ARRAY['log("gen")', 'store_put("gen", "key" + n_in, a)', 'emit "gen", {a: a}',
					 'store_append_list("gen", "all", a)', 'store_delete("gen", "key" + n_in)',
					 'store_put("gen", caller, a, true)'])[1 + n % 6],
			  (ARRAY['0', '0.05', '0.2', '0.5', '0.6', '0.85'])[1 + (n / 8) % 6],
			  n, (ARRAY['0', '0.05', '0.2', '0.5', '0.6', '0.85'])[1 + (n / 8) % 6], n) AS source
  FROM generate_series(0, 47) AS n;
SELECT count(ecl.register_policy(name, source)) AS registered_generated FROM st_generated;

-- ----------------------------------------------------------------- the check
-- The store part of a snapshot as {"[owner, store, key]": value}.
CREATE FUNCTION pg_temp.store_map(st jsonb) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT coalesce(jsonb_object_agg(k, v), '{}')
	  FROM (SELECT jsonb_build_array('', s.key, e.key)::text AS k, e.value AS v
			  FROM jsonb_each(st -> 'store' -> 'shared') s, jsonb_each(s.value) e
			UNION ALL
			SELECT jsonb_build_array(o.key, s.key, e.key)::text, e.value
			  FROM jsonb_each(st -> 'store' -> 'personal') o, jsonb_each(o.value) s,
				   jsonb_each(s.value) e) x
$$;

-- Apply simulate's change records to such a map.
CREATE FUNCTION pg_temp.apply_writes(m jsonb, writes jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	w jsonb;
	k text;
BEGIN
	FOR w IN SELECT x.e FROM jsonb_array_elements(writes) WITH ORDINALITY x(e, n) ORDER BY x.n LOOP
		CONTINUE WHEN w ->> 'op' = 'emit';
		k := jsonb_build_array(coalesce(w ->> 'owner', ''), w ->> 'store', w ->> 'key')::text;
		IF w ->> 'op' = 'put' THEN
			m := m || jsonb_build_object(k, w -> 'value');
		ELSE
			m := m - k;
		END IF;
	END LOOP;
	RETURN m;
END
$$;

-- One comparison in one transaction.  diff is NULL when everything agrees.
CREATE FUNCTION pg_temp.compare(p text, c text, r text, i jsonb,
								OUT diff text, OUT outcome text, OUT nwrites int,
								OUT nevents int, OUT nlogs int)
LANGUAGE plpgsql AS $$
DECLARE
	before		jsonb;
	s			ecl.simulation_result;
	t			ecl.run_result;
	s_err		text;
	t_err		text;
	events0		bigint;
	diffs		text[] := '{}';
BEGIN
	before := ecl.snapshot(r);
	SELECT count(*) INTO events0 FROM ecl.events;
	BEGIN
		SELECT * INTO s FROM ecl.simulate(p, c, r, i, before);
	EXCEPTION WHEN OTHERS THEN
		s_err := SQLSTATE || ' ' || SQLERRM;
	END;
	-- simulate left everything as it was, statistics included
	IF ecl.snapshot(r) IS DISTINCT FROM before THEN
		diffs := diffs || 'simulate changed the snapshot'::text;
	END IF;
	BEGIN
		SELECT * INTO t FROM ecl.run_policy(p, c, r, i);
	EXCEPTION WHEN OTHERS THEN
		t_err := SQLSTATE || ' ' || SQLERRM;
	END;

	IF s_err IS DISTINCT FROM t_err THEN
		diffs := diffs || format('error: simulate %s, run_policy %s', s_err, t_err);
	END IF;
	IF s_err IS NULL AND t_err IS NULL THEN
		IF s.passed IS DISTINCT FROM t.passed THEN
			diffs := diffs || format('passed %s vs %s', s.passed, t.passed);
		END IF;
		IF s.value IS DISTINCT FROM t.value THEN
			diffs := diffs || format('value %s vs %s', s.value, t.value);
		END IF;
		IF s.message IS DISTINCT FROM t.message THEN
			diffs := diffs || format('message %s vs %s', s.message, t.message);
		END IF;
		IF s.gas_used IS DISTINCT FROM t.gas_used THEN
			diffs := diffs || format('gas %s vs %s', s.gas_used, t.gas_used);
		END IF;
		IF s.mana_used IS DISTINCT FROM t.mana_used THEN
			diffs := diffs || format('mana %s vs %s', s.mana_used, t.mana_used);
		END IF;
		IF s.logs IS DISTINCT FROM t.logs THEN
			diffs := diffs || format('logs %s vs %s', s.logs, t.logs);
		END IF;
		IF s.events IS DISTINCT FROM t.events THEN
			diffs := diffs || format('events %s vs %s', s.events, t.events);
		END IF;
	END IF;
	-- what run_policy left in the store is the snapshot plus simulate's writes
	IF pg_temp.store_map(ecl.snapshot(r)) IS DISTINCT FROM
	   pg_temp.apply_writes(pg_temp.store_map(before), coalesce(s.writes, '[]')) THEN
		diffs := diffs || 'store after run_policy differs from snapshot + writes'::text;
	END IF;
	IF (SELECT count(*) FROM ecl.events) - events0 <> coalesce(jsonb_array_length(s.events), 0) THEN
		diffs := diffs || 'ecl.events rows differ from simulated events'::text;
	END IF;

	diff := CASE WHEN cardinality(diffs) = 0 THEN NULL ELSE array_to_string(diffs, '; ') END;
	outcome := CASE WHEN s_err IS NOT NULL THEN 'error'
					WHEN s.passed THEN 'passed' ELSE 'denied' END;
	nwrites := coalesce(jsonb_array_length(s.writes), 0);
	nevents := coalesce(jsonb_array_length(s.events), 0);
	nlogs := coalesce(cardinality(s.logs), 0);
END
$$;

CREATE TEMP TABLE st_callers (label text PRIMARY KEY, did text);
INSERT INTO st_callers VALUES
	('alice', :'alice'), ('bob', 'did:regress:st-bob'), ('carol', 'did:regress:st-carol'),
	('erin', :'erin'), ('nobody', 'did:regress:st-nobody'), ('none', NULL);
CREATE TEMP TABLE st_inputs (n int PRIMARY KEY, input jsonb);
INSERT INTO st_inputs VALUES
	(1, jsonb_build_object('amount', 10, 'other', 'did:regress:st-bob', 'kind', 'number', 'zero', 0, 'n_in', 1)),
	(2, jsonb_build_object('amount', 500, 'other', :'alice', 'kind', 'object', 'zero', 0, 'n_in', 2)),
	(3, jsonb_build_object('amount', 75.25, 'other', 'did:regress:st-nobody', 'kind', 'null', 'zero', 0, 'n_in', 1)),
	(4, jsonb_build_object('amount', 55, 'other', 'did:regress:st-carol', 'kind', 'string', 'zero', 0, 'n_in', 3)),
	(5, jsonb_build_object('amount', 0.1, 'other', NULL, 'kind', 'false', 'zero', 0, 'n_in', 2)),
	(6, jsonb_build_object('amount', 1, 'other', 'did:regress:st-dave', 'kind', 'empty', 'zero', 0, 'n_in', 4));
CREATE TEMP TABLE st_results (policy text, caller text, realm text, input int,
							  diff text, outcome text, nwrites int, nevents int, nlogs int);

-- Runs in a fixed order (later runs see what earlier ones wrote).
CREATE FUNCTION pg_temp.run_matrix(policies text[], realms text[], inputs int[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	p text;
	r text;
	c record;
	i record;
	res record;
BEGIN
	FOREACH p IN ARRAY policies LOOP
		FOREACH r IN ARRAY realms LOOP
			FOR c IN SELECT * FROM st_callers ORDER BY label LOOP
				FOR i IN SELECT * FROM st_inputs WHERE n = ANY (inputs) ORDER BY n LOOP
					SELECT * INTO res FROM pg_temp.compare(p, c.did, r, i.input);
					INSERT INTO st_results VALUES (p, c.label, coalesce(r, '(none)'), i.n,
												  res.diff, res.outcome, res.nwrites,
												  res.nevents, res.nlogs);
				END LOOP;
			END LOOP;
		END LOOP;
	END LOOP;
END
$$;

-- hand-written: every caller × every input × three realms (one has no realm)
SELECT pg_temp.run_matrix(array_agg(name ORDER BY name), ARRAY['st-realm', 'st-other', NULL],
						  ARRAY[1, 2, 3, 4, 5, 6])
  FROM st_sources;
-- generated: every caller × three inputs in st-realm
SELECT pg_temp.run_matrix(array_agg(name ORDER BY name), ARRAY['st-realm'], ARRAY[1, 2, 4])
  FROM st_generated;

-- ------------------------------------------------------------------ results
SELECT count(*) AS runs, count(*) FILTER (WHERE diff IS NULL) AS equivalent
  FROM st_results;
-- every difference (none expected)
SELECT policy, caller, realm, input, diff FROM st_results
 WHERE diff IS NOT NULL ORDER BY 1, 2, 3, 4 LIMIT 20;

-- the matrix covers every outcome and every kind of effect
SELECT outcome, count(*) AS runs FROM st_results GROUP BY outcome ORDER BY outcome;
SELECT count(*) FILTER (WHERE nwrites > 0) AS runs_with_writes,
	   count(*) FILTER (WHERE nevents > 0) AS runs_with_events,
	   count(*) FILTER (WHERE nlogs > 0) AS runs_with_logs,
	   count(*) FILTER (WHERE outcome = 'denied' AND policy LIKE 'st_gen_%') AS generated_denials
  FROM st_results;
-- each hand-written policy passed at least once, and most of them also
-- ended in a denial or an error for some caller or input
SELECT policy,
	   bool_or(outcome = 'passed') AS passes,
	   bool_or(outcome = 'denied') AS denies,
	   bool_or(outcome = 'error') AS errors
  FROM st_results WHERE policy NOT LIKE 'st_gen_%'
 GROUP BY policy ORDER BY policy;

-- revocation as both hosts see it: the revoked callers have zero trust and
-- no credentials, and what erin issued no longer counts for alice and bob
SELECT c.label, s.value AS simulated, s.value IS NOT DISTINCT FROM t.value AS same
  FROM st_callers c, st_inputs i,
	   LATERAL ecl.simulate('st_credentials', c.did, 'st-realm', i.input,
							ecl.snapshot('st-realm')) s,
	   LATERAL ecl.run_policy('st_credentials', c.did, 'st-realm', i.input) t
 WHERE i.n = 4 AND c.label IN ('alice', 'bob', 'carol', 'erin') ORDER BY 1;
SELECT c.label, s.value -> 0 AS trust, s.value -> 3 AS other_trust,
	   s.value IS NOT DISTINCT FROM t.value AS same
  FROM st_callers c, st_inputs i,
	   LATERAL ecl.simulate('st_trust', c.did, 'st-realm', i.input,
							ecl.snapshot('st-realm')) s,
	   LATERAL ecl.run_policy('st_trust', c.did, 'st-realm', i.input) t
 WHERE i.n = 4 AND c.label IN ('carol', 'erin') ORDER BY 1;

-- ------------------------------------------------------------------ cleanup
SELECT count(ecl.drop_policy(name)) AS dropped FROM (
	SELECT name FROM st_sources UNION ALL SELECT name FROM st_generated) x;
DELETE FROM ecl.store WHERE realm_id IN ('st-realm', 'st-other', '');
DELETE FROM ecl.events WHERE policy LIKE 'st\_%';
DELETE FROM ecl.credentials WHERE subject_did IN (:'alice', 'did:regress:st-bob',
												  'did:regress:st-carol', :'erin');
DELETE FROM ecl.identities WHERE did IN (:'alice', :'issuer', :'erin', 'did:regress:st-bob',
										 'did:regress:st-carol', 'did:regress:st-dave');
DELETE FROM ecl.realms WHERE realm_id IN ('st-realm', 'st-other');
