-- ecl install script, part 00: the language core (compile, disassemble, eval).
-- Fragments sql/install/NN_*.sql are concatenated in order into ecl--<version>.sql.
\echo Use "CREATE EXTENSION ecl" to load this file. \quit

-- The schema is created by CREATE EXTENSION (ecl.control: schema = ecl).
-- Every role may look into it; what each may call is granted per function.
GRANT USAGE ON SCHEMA ecl TO PUBLIC;

CREATE FUNCTION ecl.compile(source text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ecl_sql_compile'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ecl.compile(text) IS
'Compile ECL source to verified, self-describing bytecode';

CREATE FUNCTION ecl.disassemble(bytecode bytea,
	OUT pc int, OUT line int, OUT opcode text, OUT operand text, OUT gas int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_sql_disassemble'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 50;

COMMENT ON FUNCTION ecl.disassemble(bytea) IS
'Verify ECL bytecode and list its instructions with source line and gas cost';

-- VOLATILE: get_timestamp() and log() make results depend on the transaction,
-- and the statistics count every run.  Not STRICT, since its defaults are
-- NULLs: a NULL caller or realm means none and a NULL input means {}; a
-- NULL source gives NULL (as STRICT would), without a run.
CREATE FUNCTION ecl.eval(source text, input jsonb DEFAULT '{}',
						 caller text DEFAULT NULL, realm text DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ecl_sql_eval'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION ecl.eval(text, jsonb, text, text) IS
'Compile (cached by source) and run ECL code with no host data; returns its value (false when denied)';

-- docs/security.md: the pure language functions are open to everyone.
GRANT EXECUTE ON FUNCTION ecl.compile(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.disassemble(bytea) TO PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.eval(text, jsonb, text, text) TO PUBLIC;
