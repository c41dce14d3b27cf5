-- upgrade_catalog.sql — the ecl extension's objects as one sorted line each,
-- with every attribute that a CREATE statement or GRANT can set, by name
-- (never by oid), so that two databases can be compared with diff.  Used by
-- upgrade_from_0_1.sh: a database updated from 0.1 against a fresh install.
--
-- Each line is "<what> <identity> | <attributes>"; the sort keeps the lines
-- of one object together, so the first differing line names the object.
SET search_path = pg_catalog;	-- every name below comes out qualified

WITH ext AS (
	SELECT oid FROM pg_extension WHERE extname = 'ecl'
),
ns AS (
	SELECT oid FROM pg_namespace WHERE nspname = 'ecl'
),
lines(line) AS (
	-- the extension itself and what pg_dump needs from it
	SELECT 'extension ecl | version=' || e.extversion
		   || ' schema=' || e.extnamespace::regnamespace
		   || ' relocatable=' || e.extrelocatable
		   || ' owner=' || pg_get_userbyid(e.extowner)
	  FROM pg_extension e WHERE e.extname = 'ecl'
	UNION ALL
	-- config-dump registrations (pg_extension_config_dump)
	SELECT 'config-dump ' || c.tab::regclass::text || ' | condition=' || quote_literal(c.cond)
	  FROM pg_extension e,
		   unnest(e.extconfig, e.extcondition) AS c(tab, cond)
	 WHERE e.extname = 'ecl'
	UNION ALL
	-- membership (ownership by the extension), whatever the object's kind
	SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
	  FROM pg_depend d, ext
	 WHERE d.refclassid = 'pg_extension'::regclass
	   AND d.refobjid = ext.oid AND d.deptype = 'e'
	UNION ALL
	-- functions and procedures in schema ecl
	SELECT 'function ' || p.oid::regprocedure::text
		   || ' | kind=' || p.prokind::text
		   || ' args=' || pg_get_function_arguments(p.oid)
		   || ' result=' || coalesce(pg_get_function_result(p.oid), '')
		   || ' language=' || l.lanname
		   || ' volatility=' || p.provolatile::text
		   || ' strict=' || p.proisstrict
		   || ' secdef=' || p.prosecdef
		   || ' leakproof=' || p.proleakproof
		   || ' parallel=' || p.proparallel::text
		   || ' cost=' || p.procost
		   || ' rows=' || p.prorows
		   || ' support=' || p.prosupport::regproc::text
		   || ' config=' || coalesce(array_to_string(p.proconfig, ','), '')
		   || ' owner=' || pg_get_userbyid(p.proowner)
		   || ' bin=' || coalesce(p.probin, '')
		   || ' src=' || md5(p.prosrc)
		   || ' acl=' || coalesce((
				SELECT string_agg(CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
								  || '=' || a.privilege_type || '/' || pg_get_userbyid(a.grantor)
								  || CASE WHEN a.is_grantable THEN '*' ELSE '' END,
								  ',' ORDER BY 1)
				  FROM aclexplode(p.proacl) a), 'default')
	  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang, ns
	 WHERE p.pronamespace = ns.oid
	UNION ALL
	-- relations: tables, views, sequences, indexes, composite types
	SELECT 'relation ' || c.oid::regclass::text
		   || ' | kind=' || c.relkind::text
		   || ' persistence=' || c.relpersistence::text
		   || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
		   || ' replident=' || c.relreplident::text
		   || ' options=' || coalesce(array_to_string(c.reloptions, ','), '')
		   || ' owner=' || pg_get_userbyid(c.relowner)
		   || ' acl=' || coalesce((
				SELECT string_agg(CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
								  || '=' || a.privilege_type || '/' || pg_get_userbyid(a.grantor)
								  || CASE WHEN a.is_grantable THEN '*' ELSE '' END,
								  ',' ORDER BY 1)
				  FROM aclexplode(c.relacl) a), 'default')
	  FROM pg_class c, ns
	 WHERE c.relnamespace = ns.oid
	UNION ALL
	-- columns, in their order among the live columns (a column added by
	-- ALTER TABLE comes last, which a fresh install may not match)
	SELECT 'column ' || c.oid::regclass::text || '.' || quote_ident(a.attname)
		   || ' | position=' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
		   || ' type=' || format_type(a.atttypid, a.atttypmod)
		   || ' notnull=' || a.attnotnull
		   || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
		   || ' collation=' || coalesce((SELECT co.collname FROM pg_collation co
										WHERE co.oid = a.attcollation), '')
		   || ' identity=' || a.attidentity::text
		   || ' generated=' || a.attgenerated::text
		   -- pg_attver=: a per-build stamp some servers put there, not a setting
		   || ' options=' || coalesce(array_to_string(ARRAY(
				SELECT o FROM unnest(a.attoptions) o
				 WHERE o NOT LIKE 'pg\_attver=%' ORDER BY 1), ','), '')
		   || ' acl=' || coalesce(a.attacl::text, '')
	  FROM pg_class c
	  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum, ns
	 WHERE c.relnamespace = ns.oid
	UNION ALL
	SELECT 'constraint ' || quote_ident(co.conname) || ' on '
		   || coalesce(co.conrelid::regclass::text, co.contypid::regtype::text)
		   || ' | type=' || co.contype::text
		   || ' def=' || pg_get_constraintdef(co.oid)
		   || ' deferrable=' || co.condeferrable || '/' || co.condeferred
		   || ' validated=' || co.convalidated
	  FROM pg_constraint co, ns
	 WHERE co.connamespace = ns.oid
	UNION ALL
	SELECT 'index ' || i.indexrelid::regclass::text || ' | ' || pg_get_indexdef(i.indexrelid)
		   || ' primary=' || i.indisprimary || ' unique=' || i.indisunique
		   || ' replident=' || i.indisreplident
	  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid, ns
	 WHERE c.relnamespace = ns.oid
	UNION ALL
	SELECT 'trigger ' || quote_ident(t.tgname) || ' on ' || t.tgrelid::regclass::text
		   || ' | ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
	  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid, ns
	 WHERE c.relnamespace = ns.oid AND NOT t.tgisinternal
	UNION ALL
	SELECT 'view ' || c.oid::regclass::text || ' | ' || regexp_replace(pg_get_viewdef(c.oid), '\s+', ' ', 'g')
	  FROM pg_class c, ns
	 WHERE c.relnamespace = ns.oid AND c.relkind IN ('v', 'm')
	UNION ALL
	SELECT 'sequence ' || s.seqrelid::regclass::text
		   || ' | type=' || s.seqtypid::regtype || ' start=' || s.seqstart
		   || ' increment=' || s.seqincrement || ' min=' || s.seqmin || ' max=' || s.seqmax
		   || ' cache=' || s.seqcache || ' cycle=' || s.seqcycle
	  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid, ns
	 WHERE c.relnamespace = ns.oid
	UNION ALL
	SELECT 'type ' || t.oid::regtype::text
		   || ' | kind=' || t.typtype::text || ' category=' || t.typcategory::text
		   || ' owner=' || pg_get_userbyid(t.typowner)
		   || ' acl=' || coalesce(t.typacl::text, '')
	  FROM pg_type t, ns
	 WHERE t.typnamespace = ns.oid
	UNION ALL
	SELECT 'rls-policy ' || quote_ident(p.polname) || ' on ' || p.polrelid::regclass::text
		   || ' | cmd=' || p.polcmd::text || ' permissive=' || p.polpermissive
		   || ' roles=' || (SELECT string_agg(CASE r WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END, ',' ORDER BY 1)
							  FROM unnest(p.polroles) r)
		   || ' using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
		   || ' check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
	  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid, ns
	 WHERE c.relnamespace = ns.oid
	UNION ALL
	-- comments on anything of the extension's (columns, constraints and
	-- triggers included)
	SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid)
		   || ' | ' || d.description
	  FROM pg_description d
	 WHERE pg_describe_object(d.classoid, d.objoid, d.objsubid) ~ '(^| )ecl\.'
		OR (d.classoid = 'pg_extension'::regclass
			AND d.objoid = (SELECT oid FROM ext))
)
SELECT regexp_replace(line, '\s*\n\s*', ' ', 'g') AS line
  FROM lines ORDER BY line COLLATE "C";
