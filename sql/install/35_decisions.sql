-- 35_decisions.sql — the decision log (docs/lifecycle.md, "Decision log"):
-- ecl.decision_log, written only by the extension's background worker;
-- ecl.recent_decisions, what the shared-memory queue holds now (all a hot
-- standby has); ecl.replay and ecl.trim_decision_log.
--
-- Not a configuration table (pg_extension_config_dump): it is a log that
-- grows with traffic, not settings to carry into a copy; archive it with
-- COPY (docs/operations.md).

CREATE TABLE ecl.decision_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    datname name,
    role name,
    caller text,
    policy text,
    version integer,
    hash text,
    realm text,
    input jsonb,
    input_digest text,
    passed boolean NOT NULL,
    message text,
    sqlstate text,
    gas bigint NOT NULL,
    mana bigint NOT NULL,
    duration_us bigint NOT NULL,
    query_id bigint,
    shadow_disagreement boolean
);
CREATE INDEX decision_log_at ON ecl.decision_log (at);
CREATE INDEX decision_log_policy ON ecl.decision_log (policy, at);

REVOKE ALL ON ecl.decision_log FROM PUBLIC;
REVOKE ALL ON SEQUENCE ecl.decision_log_id_seq FROM PUBLIC;
GRANT SELECT ON ecl.decision_log TO ecl_admin;

COMMENT ON TABLE ecl.decision_log IS
    'policy decisions, written in batches by the ecl decision log worker (ecl.decision_log setting); readable by ecl_admin';

-- The queue's records of the current database: every one for members of
-- ecl_admin and pg_read_all_stats, the caller's own role's for others.
CREATE FUNCTION ecl.decision_queue(
    OUT at timestamptz,
    OUT datname name,
    OUT role name,
    OUT caller text,
    OUT policy text,
    OUT version integer,
    OUT hash text,
    OUT realm text,
    OUT input jsonb,
    OUT input_digest text,
    OUT passed boolean,
    OUT message text,
    OUT sqlstate text,
    OUT gas bigint,
    OUT mana bigint,
    OUT duration_us bigint,
    OUT query_id bigint,
    OUT shadow_disagreement boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ecl_decision_queue_rows'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

CREATE VIEW ecl.recent_decisions AS
    SELECT * FROM ecl.decision_queue();
GRANT SELECT ON ecl.recent_decisions TO PUBLIC;

COMMENT ON VIEW ecl.recent_decisions IS
    'decisions still in the shared-memory queue (on a hot standby: the newest ecl.decision_log_queue_size); a role sees its own, ecl_admin and pg_read_all_stats all';

CREATE FUNCTION ecl.replay(
    decision_id bigint,
    OUT id bigint,
    OUT policy text,
    OUT logged_version integer,
    OUT version integer,
    OUT logged_passed boolean,
    OUT passed boolean,
    OUT logged_message text,
    OUT message text,
    OUT logged_sqlstate text,
    OUT sqlstate text,
    OUT value jsonb,
    OUT changed boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'ecl_replay'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION ecl.replay(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.replay(bigint) TO ecl_admin;

COMMENT ON FUNCTION ecl.replay(bigint) IS
    'run a logged decision again (current policy version, logged caller, realm and input, today''s data; nothing kept) and say whether the outcome changed';

-- Not STRICT: a NULL is refused with an error, not answered with NULL.
CREATE FUNCTION ecl.trim_decision_log(older_than interval)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecl_trim_decision_log'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION ecl.trim_decision_log(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecl.trim_decision_log(interval) TO ecl_admin;

COMMENT ON FUNCTION ecl.trim_decision_log(interval) IS
    'delete the decisions logged before now() - older_than; returns how many';
