-- 60_engines.sql — the engine entry points (docs/engines.md): handlers for the API,
-- UI, DataLogic, Governance and Controller engines.  docs/engines.md shows
-- one example per engine.
--
-- A handler is a registered policy named '<engine>:<key>' (kind = engine)
-- plus its row in ecl.handlers.  Because it is a policy, ecl.check,
-- ecl.allowed and ecl.run_policy accept its name too.
--
-- Privileges (docs/security.md):
--   register_handler, drop_handler   ecl_admin
--   run_api, run_ui, run_datalogic,
--   run_governance, run_controller   ecl_executor and ecl_admin

-- ---------------------------------------------------------------------
-- Handler lookups are cached per session (engines.c); every change to
-- ecl.handlers — also the cascaded delete when its policy is dropped —
-- invalidates the caches of all sessions, transactionally.  The trigger
-- function is the one ecl.policies uses: it invalidates the relcache entry
-- of the table it fires on.
-- ---------------------------------------------------------------------
CREATE TRIGGER handlers_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ecl.handlers
	FOR EACH STATEMENT EXECUTE FUNCTION ecl.policies_changed();
-- on a logical-replication subscriber (see 40_policy.sql)
CREATE TRIGGER handlers_changed_on_apply
	AFTER INSERT OR UPDATE OR DELETE ON ecl.handlers
	FOR EACH ROW EXECUTE FUNCTION ecl.policies_changed();
CREATE TRIGGER handlers_truncated_on_apply
	AFTER TRUNCATE ON ecl.handlers
	FOR EACH STATEMENT EXECUTE FUNCTION ecl.policies_changed();
ALTER TABLE ecl.handlers ENABLE REPLICA TRIGGER handlers_changed_on_apply;
ALTER TABLE ecl.handlers ENABLE REPLICA TRIGGER handlers_truncated_on_apply;

-- ---------------------------------------------------------------------
-- Registering.  SECURITY DEFINER (owner: the schema owner) because
-- ecl_admin may read ecl.handlers but not write it: EXECUTE on these two
-- functions is the permission to change handlers.  The policy itself is
-- compiled and stored by ecl.register_policy / ecl.drop_policy, the one
-- registration path.
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.register_handler(engine text, key text, source text,
									 realm text DEFAULT NULL)
RETURNS bytea
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	handler_policy text;
	policy_hash bytea;
BEGIN
	IF register_handler.engine IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'engine must not be NULL';
	END IF;
	-- the same list as the CHECK of ecl.handlers.engine and engines.c
	IF register_handler.engine NOT IN
		('api', 'ui', 'datalogic', 'governance', 'controller') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown engine "%s"', register_handler.engine),
			HINT = 'Engines are api, ui, datalogic, governance and controller.';
	END IF;
	IF register_handler.key IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'handler key must not be NULL';
	END IF;
	IF register_handler.key = '' THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = 'handler key must not be empty';
	END IF;

	handler_policy := register_handler.engine || ':' || register_handler.key;
	policy_hash := ecl.register_policy(handler_policy, register_handler.source,
									   register_handler.engine,
									   register_handler.realm);
	INSERT INTO ecl.handlers AS h (engine, key, policy_name)
		VALUES (register_handler.engine, register_handler.key, handler_policy)
		ON CONFLICT ON CONSTRAINT handlers_pkey
		DO UPDATE SET policy_name = EXCLUDED.policy_name;
	RETURN policy_hash;
END
$fn$;
COMMENT ON FUNCTION ecl.register_handler(text, text, text, text) IS
'Compile and store a handler as policy ''<engine>:<key>'' (kind = engine) and record it in ecl.handlers; returns the bytecode hash. Re-registering replaces it';

CREATE FUNCTION ecl.drop_handler(engine text, key text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	handler_policy text;
BEGIN
	IF drop_handler.engine IS NULL OR drop_handler.key IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = '22004',
			MESSAGE = 'engine and key must not be NULL';
	END IF;
	IF drop_handler.engine NOT IN
		('api', 'ui', 'datalogic', 'governance', 'controller') THEN
		RAISE EXCEPTION USING ERRCODE = '22023',
			MESSAGE = format('unknown engine "%s"', drop_handler.engine),
			HINT = 'Engines are api, ui, datalogic, governance and controller.';
	END IF;
	SELECT h.policy_name INTO handler_policy
	  FROM ecl.handlers h
	 WHERE h.engine = drop_handler.engine AND h.key = drop_handler.key;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = '42704',
			MESSAGE = format('%s handler "%s" does not exist',
							 drop_handler.engine, drop_handler.key);
	END IF;
	-- dropping the policy removes the ecl.handlers row (ON DELETE CASCADE)
	RETURN ecl.drop_policy(handler_policy);
END
$fn$;
COMMENT ON FUNCTION ecl.drop_handler(text, text) IS
'Remove a handler and its policy';

-- ---------------------------------------------------------------------
-- Running.  VOLATILE: handlers may write stores and emit events (kept only
-- when the run passes).  Each finds the handler first (42704 whatever the
-- input), fills the fields its key implies where the caller left them out
-- (api method and path from a key "METHOD /path", ui component, controller
-- permission), checks the input's shape (22023 with the expected shape in
-- the hint) and counts the run under its engine.
-- ---------------------------------------------------------------------
CREATE FUNCTION ecl.run_api(key text, caller text, realm text,
							input jsonb DEFAULT '{}')
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_run_api'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.run_api(text, text, text, jsonb) IS
'Run the API handler of a route; input {method, path, params, body}, method and path defaulting to a key "METHOD /path"; value = the response body';

CREATE FUNCTION ecl.run_ui(key text, caller text, realm text,
						   input jsonb DEFAULT '{}')
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_run_ui'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.run_ui(text, text, text, jsonb) IS
'Run the UI handler of a component; input {component, props}, component defaulting to the key; value = visible (bool) or order (number)';

CREATE FUNCTION ecl.run_datalogic(key text, caller text, realm text,
								  input jsonb DEFAULT '{}')
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_run_datalogic'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.run_datalogic(text, text, text, jsonb) IS
'Run the DataLogic handler of a stream or aggregation; input {event} or {events}; value = keep (bool) or aggregate (number)';

CREATE FUNCTION ecl.run_governance(key text, caller text, realm text,
								   input jsonb DEFAULT '{}')
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_run_governance'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.run_governance(text, text, text, jsonb) IS
'Run the Governance handler of a proposal type; input {proposal: {id, yes, no, total, status}, voter}; value = accepted (bool) or next status (string)';

CREATE FUNCTION ecl.run_controller(key text, caller text, realm text,
								   input jsonb DEFAULT '{}')
RETURNS ecl.run_result
AS 'MODULE_PATHNAME', 'ecl_run_controller'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ecl.run_controller(text, text, text, jsonb) IS
'Run the Controller handler of a permission; input {permission, resource}, permission defaulting to the key; value = allowed (bool)';

-- ---------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------
REVOKE ALL ON FUNCTION ecl.register_handler(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.drop_handler(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.run_api(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.run_ui(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.run_datalogic(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.run_governance(text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecl.run_controller(text, text, text, jsonb) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION ecl.register_handler(text, text, text, text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION ecl.drop_handler(text, text) TO ecl_admin;
GRANT EXECUTE ON FUNCTION
	ecl.run_api(text, text, text, jsonb),
	ecl.run_ui(text, text, text, jsonb),
	ecl.run_datalogic(text, text, text, jsonb),
	ecl.run_governance(text, text, text, jsonb),
	ecl.run_controller(text, text, text, jsonb)
	TO ecl_executor, ecl_admin;
