--
-- ecl.compile output, ecl.disassemble, and the verifier's rejection of bad
-- bytecode (EC007): hand-crafted, truncated and modified bytea.
--

-- the format is self-describing: magic "ECLB", version 1 (u16 LE), flags 0
SELECT substring(ecl.compile('return true') from 1 for 4) AS magic,
       get_byte(ecl.compile('return true'), 4) + 256 * get_byte(ecl.compile('return true'), 5) AS version,
       get_byte(ecl.compile('return true'), 6) + get_byte(ecl.compile('return true'), 7) AS flags;
-- deterministic: the same source gives the same bytes; whitespace and
-- comments do not change the code, only the recorded positions
SELECT ecl.compile('return a + 1') = ecl.compile('return a + 1') AS deterministic,
       ecl.compile('return a + 1') = ecl.compile('return a  +  1') AS positions_recorded;
SELECT (SELECT array_agg(opcode || ' ' || operand ORDER BY pc) FROM ecl.disassemble(ecl.compile('return a + 1')))
     = (SELECT array_agg(opcode || ' ' || operand ORDER BY pc) FROM ecl.disassemble(ecl.compile('// comment
return a   +   1'))) AS same_code;

-- disassembly of a small policy: pc, source line, opcode, operand, gas
SELECT * FROM ecl.disassemble(ecl.compile('policy guard {
    require amount > 0, "amount must be positive"
    let fee = amount * 0.01
    if fee > 10 {
        return false
    }
    return amount + fee
}'));

-- constant folding: the whole expression becomes one constant
SELECT * FROM ecl.disassemble(ecl.compile('return (2 + 3) * 4 - 1'));
SELECT * FROM ecl.disassemble(ecl.compile('return "a" + "b" + 1'));
-- dead code after return is removed: nothing of the log call remains
SELECT * FROM ecl.disassemble(ecl.compile('return 1
log("never")
return 2'));

-- short-circuit operators compile to branches; loops to iterator instructions
SELECT pc, opcode, operand FROM ecl.disassemble(ecl.compile('return a && b || c'));
SELECT pc, line, opcode, operand FROM ecl.disassemble(ecl.compile('let s = 0
for x in xs {
    s = s + x
}
return s'));
-- built-ins and trust dimensions
SELECT pc, opcode, operand, gas FROM ecl.disassemble(ecl.compile('return trust.r >= 0.5 && trust_norm(trust) > 0.2'));

-- a && chain: every AND jumps straight to the end, and no TO_BOOL follows a
-- comparison; a false first condition is charged one AND, whatever follows
SELECT pc, opcode, operand, gas FROM ecl.disassemble(ecl.compile('return a > 1 && b > 2 && c > 3 || d'));
SET ecl.gas_limit = 17;
SELECT ecl.eval('return a > 1 && b > 2 && c > 3 || d', '{"a": 0, "b": 0, "c": 0, "d": true}') AS fits_in_17_gas;
SET ecl.gas_limit = 16;
SELECT ecl.eval('return a > 1 && b > 2 && c > 3 || d', '{"a": 0, "b": 0, "c": 0, "d": true}');
RESET ecl.gas_limit;

-- the policy name is stored: a named program names itself in errors
SELECT position('guard' in encode(ecl.compile('policy guard { return 1 }'), 'escape')) > 0 AS name_stored;

-- every opcode listed has the gas of the instruction table: totals of a
-- straight-line program equal what a run of it is charged
SELECT sum(gas) AS listed_gas FROM ecl.disassemble(ecl.compile('return a * 2 + 1'));
SET ecl.gas_limit = 14;
SELECT ecl.eval('return a * 2 + 1', '{"a": 3}') AS fits_in_listed_gas;
SET ecl.gas_limit = 13;
SELECT ecl.eval('return a * 2 + 1', '{"a": 3}');
RESET ecl.gas_limit;

-- EC007: bytes that are not valid bytecode are rejected, never run
SELECT * FROM ecl.disassemble('\x'::bytea);
SELECT * FROM ecl.disassemble('\x00'::bytea);
SELECT * FROM ecl.disassemble('hello world, not bytecode'::bytea);
-- wrong magic
SELECT * FROM ecl.disassemble(overlay(ecl.compile('return true') placing 'X'::bytea from 1 for 1));
-- unsupported version
SELECT * FROM ecl.disassemble(set_byte(ecl.compile('return true'), 4, 9));
-- reserved flags set
SELECT * FROM ecl.disassemble(set_byte(ecl.compile('return true'), 6, 2));
-- the declared-inputs flag without a declaration in the bytes
SELECT * FROM ecl.disassemble(set_byte(ecl.compile('return true'), 6, 1));
-- declared max_stack does not match the code
SELECT * FROM ecl.disassemble(set_byte(ecl.compile('return true'), 8, 7));
-- trailing bytes
SELECT * FROM ecl.disassemble(ecl.compile('return true') || '\x00'::bytea);

-- every truncation of a valid program is rejected with EC007 (none crashes)
CREATE TEMP TABLE bc AS
SELECT ecl.compile('policy p {
    let t = trust_create(0.5, 0.5, 0.5, 0.5, 0.5, 0.5)
    require amount > 1 && str_len(name) < 10, "bad"
    for x in [1, "two", {"three": 3}] { log(x) }
    return {"ok": trust_norm(t), "tags": ["a", "b"]}
}') AS code;
CREATE FUNCTION pg_temp.disasm_state(b bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM count(*) FROM ecl.disassemble(b);
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;
SELECT pg_temp.disasm_state(code) AS full_program FROM bc;
SELECT pg_temp.disasm_state(substring(code from 1 for n)) AS state, count(*) AS truncations
FROM bc, generate_series(0, length(code) - 1) AS n
GROUP BY 1 ORDER BY 1;

-- single-byte mutations anywhere never crash: each is either rejected
-- (EC007, or EC005 for an inflated stack size) or still a valid program
SELECT state, count(*) > 0 AS seen
FROM (
	SELECT pg_temp.disasm_state(set_byte(code, pos, (get_byte(code, pos) + delta) % 256)) AS state
	FROM bc, generate_series(0, length(code) - 1) AS pos, (VALUES (1), (128), (255)) AS d(delta)
) s
GROUP BY 1 ORDER BY 1;

-- an opcode byte past the end of the instruction table
-- (header 16 bytes + u32 name length + u32 constant count + u32 code count
-- puts the first instruction of 'return true' at offset 28)
SELECT * FROM ecl.disassemble(set_byte(ecl.compile('return true'), 28, 250));

-- a program needing more stack than ecl.max_stack_depth: EC005
SET ecl.max_stack_depth = 2;
SELECT * FROM ecl.disassemble(ecl.compile('return [1, a, b]'));
RESET ecl.max_stack_depth;

DROP TABLE bc;
