-- 30_b2_peers.sql — B2: compute only.  Eight numeric fields of one jsonb
-- input, about twenty arithmetic operations and comparisons, the same
-- logic in every peer.
--
-- The input is a stored jsonb column (200,000 documents), the same rows for
-- every peer, including the floor.  Building the documents per row with
-- jsonb_build_object instead costs about 2.5 us per row here (every value
-- goes through its output function and numeric_in), more than any peer's
-- computation: it would hide the differences this benchmark is about.
\set ON_ERROR_STOP 1

CREATE TABLE bench.b2_input AS
	SELECT g AS id,
		   jsonb_build_object('amount', (g * 37) % 1000, 'fee', g % 10,
							  'balance', (g * 13) % 2000, 'cap', 500 + g % 500,
							  'score', (g * 7) % 100, 'age', g % 80,
							  'risk', (g * 11) % 100, 'n', g % 150) AS doc
	  FROM generate_series(1, 200000) g;
VACUUM ANALYZE bench.b2_input;

SELECT ecl.register_policy('b2', $ecl$
policy b2 {
    let total = amount + fee
    let ratio = total / cap
    let headroom = balance - total
    let s = score * 0.6 + (100 - risk) * 0.4
    return total > 0 && ratio <= 1 && headroom >= 0 && s >= 50 &&
        age >= 18 && n < 100 && amount * 3 - fee * 2 != 11
}
$ecl$);

CREATE FUNCTION bench.b2_plpgsql(doc jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	amount		float8 := (doc->>'amount')::float8;
	fee			float8 := (doc->>'fee')::float8;
	balance		float8 := (doc->>'balance')::float8;
	cap			float8 := (doc->>'cap')::float8;
	score		float8 := (doc->>'score')::float8;
	age			float8 := (doc->>'age')::float8;
	risk		float8 := (doc->>'risk')::float8;
	n			float8 := (doc->>'n')::float8;
	total		float8 := amount + fee;
	ratio		float8 := total / cap;
	headroom	float8 := balance - total;
	s			float8 := score * 0.6 + (100 - risk) * 0.4;
BEGIN
	RETURN total > 0 AND ratio <= 1 AND headroom >= 0 AND s >= 50
		AND age >= 18 AND n < 100 AND amount * 3 - fee * 2 <> 11;
END
$$;

-- One expression (inlined by the planner); fields are extracted where used.
CREATE FUNCTION bench.b2_sql(doc jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT (doc->>'amount')::float8 + (doc->>'fee')::float8 > 0
	   AND ((doc->>'amount')::float8 + (doc->>'fee')::float8) / (doc->>'cap')::float8 <= 1
	   AND (doc->>'balance')::float8 - ((doc->>'amount')::float8 + (doc->>'fee')::float8) >= 0
	   AND (doc->>'score')::float8 * 0.6 + (100 - (doc->>'risk')::float8) * 0.4 >= 50
	   AND (doc->>'age')::float8 >= 18
	   AND (doc->>'n')::float8 < 100
	   AND (doc->>'amount')::float8 * 3 - (doc->>'fee')::float8 * 2 <> 11
$$;

-- PL/Lua: the jsonb datum called with no arguments gives a Lua table.
CREATE FUNCTION bench.b2_lua(doc jsonb) RETURNS boolean
LANGUAGE pllua IMMUTABLE AS $$
	local f = doc()
	local amount, fee = f.amount, f.fee
	local total = amount + fee
	local ratio = total / f.cap
	local headroom = f.balance - total
	local s = f.score * 0.6 + (100 - f.risk) * 0.4
	return total > 0 and ratio <= 1 and headroom >= 0 and s >= 50
		and f.age >= 18 and f.n < 100 and amount * 3 - fee * 2 ~= 11
$$;
