-- 0.1--0.2.after.sql — data for the objects 0.2 added to 0.1's; runs after
-- the fragments in ecl--0.1--0.2.sql (docs/architecture.md, "Changing SQL
-- objects").

-- ecl.policy_versions holds every version, the current one included.  0.1
-- kept only the current one, so that is what the history starts with, as
-- its registration would have recorded it: registered_at is when it was
-- registered (updated_at); who registered it 0.1 did not record, so
-- registered_by is the login running the update.  The next registration of
-- a name continues from its current version.
INSERT INTO ecl.policy_versions
	   (name, version, kind, realm_id, source, hash, registered_by, registered_at)
SELECT p.name, p.version, p.kind, p.realm_id, p.source, p.hash,
	   SESSION_USER, p.updated_at
  FROM ecl.policies p;
