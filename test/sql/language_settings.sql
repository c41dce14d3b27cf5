--
-- The ecl.* settings: defaults, units, who may change them, reserved prefix.
--
SELECT name, setting, unit, context, vartype, min_val, max_val
FROM pg_settings WHERE name LIKE 'ecl.%' ORDER BY name;

-- units and ranges
SET ecl.timeout_ms = '2s';
SHOW ecl.timeout_ms;
RESET ecl.timeout_ms;
SET ecl.gas_limit = 0;
SET ecl.max_stack_depth = -1;
-- the prefix is reserved: misspelt settings are errors, not placeholders
SET ecl.gas_limt = 10;

-- budgets are per session (users may tighten or loosen their own runs);
-- switches that affect everybody are superuser-only
CREATE ROLE regress_ecl_settings_user;
SET ROLE regress_ecl_settings_user;
SET ecl.gas_limit = 100;
SHOW ecl.gas_limit;
SET ecl.track = off;
SET ecl.rate_limit = off;
-- deny only hides more rows than raise shows: a user may choose it
SET ecl.rls_errors = deny;
SHOW ecl.rls_errors;
RESET ecl.rls_errors;
RESET ROLE;
RESET ecl.gas_limit;
DROP ROLE regress_ecl_settings_user;
