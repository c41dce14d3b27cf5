\set c random(1, 10000)
SELECT ecl.run_policy('b3', 'did:bench:' || lpad(:c::text, 5, '0'), 'bench', '{"amount": 250}');
