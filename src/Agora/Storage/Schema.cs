using System.Data.Common;

namespace Agora.Storage;

/// The tenant database's schema, migrated at open, idempotently, by version number.
internal static class Schema
{
    private static readonly string[] Migrations =
    [
        // 1: entities in their expanded form, one JSON document each; types in their own table so that a
        // query by type reads an index, not every document.
        """
        CREATE TABLE entities (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        CREATE TABLE entity_types (
            type TEXT NOT NULL,
            rid INTEGER NOT NULL REFERENCES entities(rid) ON DELETE CASCADE,
            PRIMARY KEY (type, rid)
        ) WITHOUT ROWID;
        CREATE INDEX entity_types_rid ON entity_types(rid);
        """,
        // 2: what queries compare, so that q, geo-queries and scopeQ read indexes instead of every document.
        // attr_values: one row per comparable value (path as in IndexRows), numbers and instants in num,
        // text in str, and a bare row per attribute for existence. geo: an R*Tree of GeoProperty bounds.
        """
        CREATE TABLE attr_values (
            path TEXT NOT NULL,
            num REAL,
            str TEXT,
            rid INTEGER NOT NULL
        );
        CREATE INDEX attr_values_num ON attr_values(path, num, rid);
        CREATE INDEX attr_values_str ON attr_values(path, str, rid);
        CREATE INDEX attr_values_rid ON attr_values(rid);
        CREATE VIRTUAL TABLE geo USING rtree(id, minx, maxx, miny, maxy, +rid INTEGER, +attr TEXT);
        CREATE TABLE geo_rids (rid INTEGER NOT NULL, gid INTEGER NOT NULL, PRIMARY KEY (rid, gid)) WITHOUT ROWID;
        CREATE TABLE scopes (
            scope TEXT NOT NULL,
            rid INTEGER NOT NULL,
            PRIMARY KEY (scope, rid)
        ) WITHOUT ROWID;
        CREATE INDEX scopes_rid ON scopes(rid);
        """,
        // 3: which attributes (and of which NGSI-LD attribute types) each entity has, for discovery.
        """
        CREATE TABLE entity_attrs (
            attr TEXT NOT NULL,
            attr_type TEXT NOT NULL,
            rid INTEGER NOT NULL,
            PRIMARY KEY (attr, attr_type, rid)
        ) WITHOUT ROWID;
        CREATE INDEX entity_attrs_rid ON entity_attrs(rid);
        """,
        // 4: subscriptions, their delivery status, and the notification outbox. A notification is written in
        // the transaction of the change that causes it and deleted once delivered, so none is lost or
        // invented by a crash between the two.
        """
        CREATE TABLE subscriptions (
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        CREATE TABLE subscription_status (
            subscription_id TEXT PRIMARY KEY,
            times_sent INTEGER NOT NULL DEFAULT 0,
            times_failed INTEGER NOT NULL DEFAULT 0,
            last_notification TEXT,
            last_success TEXT,
            last_failure TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE outbox (
            nid INTEGER PRIMARY KEY,
            subscription_id TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            content_type TEXT NOT NULL,
            link TEXT,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL
        );
        CREATE INDEX outbox_due ON outbox(next_attempt);
        CREATE INDEX outbox_subscription ON outbox(subscription_id, nid);
        """,
        // 5: temporal history (Temporal/). An entity's history outlives the entity: temporal_entities keeps
        // what the history needs of it (types, scope, its own timestamps). attr_instances is append-only
        // apart from the temporal API's instance edits; times are epoch milliseconds so that ranges and
        // aggregation periods compare numbers, and (eid, attr, observed, num) covers an aggregation of
        // numbers over observedAt without reading the table. attr_hours rolls the instances of each hour (by
        // observedAt) up into count, sum, sum of squares, min and max, so that a long aggregation adds up
        // hours instead of instances; it is kept in step by every write of attr_instances.
        """
        CREATE TABLE temporal_entities (
            eid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            types TEXT NOT NULL,
            scope TEXT,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL,
            deleted_at TEXT
        );
        CREATE TABLE temporal_types (
            type TEXT NOT NULL,
            eid INTEGER NOT NULL REFERENCES temporal_entities(eid) ON DELETE CASCADE,
            PRIMARY KEY (type, eid)
        ) WITHOUT ROWID;
        CREATE INDEX temporal_types_eid ON temporal_types(eid);
        CREATE TABLE attr_instances (
            iid INTEGER PRIMARY KEY AUTOINCREMENT,
            eid INTEGER NOT NULL REFERENCES temporal_entities(eid) ON DELETE CASCADE,
            attr TEXT NOT NULL,
            dataset TEXT NOT NULL DEFAULT '',
            observed REAL,
            created REAL NOT NULL,
            modified REAL NOT NULL,
            deleted REAL,
            num REAL,
            val TEXT,
            doc TEXT NOT NULL
        );
        CREATE INDEX attr_instances_observed ON attr_instances(eid, attr, observed, num);
        CREATE INDEX attr_instances_created ON attr_instances(eid, attr, created);
        CREATE INDEX attr_instances_age ON attr_instances(coalesce(observed, created));
        CREATE TABLE attr_hours (
            eid INTEGER NOT NULL,
            attr TEXT NOT NULL,
            hour INTEGER NOT NULL,
            cnt INTEGER NOT NULL,
            n INTEGER NOT NULL,
            total REAL NOT NULL,
            sumsq REAL NOT NULL,
            lo REAL,
            hi REAL,
            PRIMARY KEY (eid, attr, hour)
        ) WITHOUT ROWID;
        """,
        // 6: context source registrations (Registrations/), each one JSON document in its stored, expanded form,
        // and what distributed operations will record of their requests to each source (clause 5.2.9's status).
        """
        CREATE TABLE registrations (
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        CREATE TABLE registration_status (
            registration_id TEXT PRIMARY KEY,
            times_sent INTEGER NOT NULL DEFAULT 0,
            times_failed INTEGER NOT NULL DEFAULT 0,
            last_success TEXT,
            last_failure TEXT
        );
        """,
        // 7: context source registration subscriptions (CsourceSubscriptions/), one JSON document each. Their
        // notifications share the outbox and subscription_status with entity subscriptions, keyed by their id.
        """
        CREATE TABLE csource_subscriptions (
            id TEXT PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL
        );
        """,        // 8: what several nodes on one database need (used on PostgreSQL; the same tables keep both stores'
        // schemas alike): a lease per subscription on the delivery of its notifications, the last firing of each
        // periodic subscription, and the generation of each table nodes keep in memory (Generations).
        """
        CREATE TABLE delivery_leases (
            subscription_id TEXT PRIMARY KEY,
            node TEXT NOT NULL,
            until REAL NOT NULL
        );
        CREATE TABLE periodic_runs (
            subscription_id TEXT PRIMARY KEY,
            fired REAL NOT NULL
        );
        CREATE TABLE generations (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        """,
        // 9: attr_values clustered by entity (SqliteIndexes): the table is its own (rid, path, seq) key, so the
        // separate rid index goes, an entity's rows are one range, and an update rewrites one attribute's range.
        // Values are indexed by (path, num) and (path, str) as before. A row per attribute for existence is
        // now written only where no value marks the attribute's path; older rows of that kind are kept.
        """
        CREATE TABLE attr_values_by_entity (
            rid INTEGER NOT NULL,
            path TEXT NOT NULL,
            seq INTEGER NOT NULL,
            num REAL,
            str TEXT,
            PRIMARY KEY (rid, path, seq)
        ) WITHOUT ROWID;
        INSERT INTO attr_values_by_entity (rid, path, seq, num, str)
            SELECT rid, path, row_number() OVER (PARTITION BY rid, path) - 1, num, str FROM attr_values;
        DROP TABLE attr_values;
        ALTER TABLE attr_values_by_entity RENAME TO attr_values;
        CREATE INDEX attr_values_num ON attr_values(path, num);
        CREATE INDEX attr_values_str ON attr_values(path, str);
        """,
        // 10: an R*Tree a query reads without leaving it (SqliteIndexes.WriteGeometries). Its rows carried the
        // entity and the attribute as auxiliary columns, which SQLite reads by a seek per row: a box of 360
        // geometries took 400 µs, 50 µs without them. The entity is now in the row's id (rid << 20 | n, n
        // numbering the entity's geometries), and the attribute a third dimension: its code in geo_attrs, as
        // the span [code - 0.25, code + 0.25] (a span of zero width would give every node of the tree a volume of
        // zero, which leaves the R*Tree's split heuristics blind: the same box then took 3 ms).
        """
        CREATE TABLE geo_attrs (code INTEGER PRIMARY KEY, attr TEXT NOT NULL UNIQUE);
        INSERT INTO geo_attrs (attr) SELECT DISTINCT attr FROM geo ORDER BY attr;
        CREATE TEMP TABLE geo_before AS
            SELECT g.rid, g.minx, g.maxx, g.miny, g.maxy, a.code, row_number() OVER (PARTITION BY g.rid ORDER BY g.id) - 1 AS n
            FROM geo g JOIN geo_attrs a ON a.attr = g.attr;
        DROP TABLE geo;
        DELETE FROM geo_rids;
        CREATE VIRTUAL TABLE geo USING rtree(id, minx, maxx, miny, maxy, mina, maxa);
        INSERT INTO geo (id, minx, maxx, miny, maxy, mina, maxa)
            SELECT (rid << 20) | n, minx, maxx, miny, maxy, code - 0.25, code + 0.25 FROM geo_before;
        INSERT INTO geo_rids (rid, gid) SELECT rid, (rid << 20) | n FROM geo_before;
        DROP TABLE geo_before;
        """,
        // 11: the text index holds the rows that have a text: a number, an instant or a bare existence row was
        // written into it too, as a (path, NULL) entry no query reads (a text comparison implies a text, and
        // SQLite then uses the partial index; existence reads (path, num), which still holds every row).
        """
        DROP INDEX attr_values_str;
        CREATE INDEX attr_values_str ON attr_values(path, str) WHERE str IS NOT NULL;
        """,
        // 12: value paths as integers (TextCodes): each distinct path once in value_paths, its code in the rows.
        """
        CREATE TABLE value_paths (code INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
        INSERT INTO value_paths (path) SELECT DISTINCT path FROM attr_values ORDER BY path;
        CREATE TABLE attr_values_coded (
            rid INTEGER NOT NULL,
            path INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            num REAL,
            str TEXT,
            PRIMARY KEY (rid, path, seq)
        ) WITHOUT ROWID;
        INSERT INTO attr_values_coded (rid, path, seq, num, str)
            SELECT v.rid, p.code, v.seq, v.num, v.str FROM attr_values v JOIN value_paths p ON p.path = v.path;
        DROP TABLE attr_values;
        ALTER TABLE attr_values_coded RENAME TO attr_values;
        CREATE INDEX attr_values_num ON attr_values(path, num);
        CREATE INDEX attr_values_str ON attr_values(path, str) WHERE str IS NOT NULL;
        """,
    ];

    // The same tables on PostgreSQL, in the tenant's schema. Differences: identity columns for SQLite's rowids
    // (named rowid where code orders by it); geometry bounds as PostGIS boxes under a GiST index instead of the
    // R*Tree; history instances partitioned by month of their recording (see HistoryPartitions); documents as
    // text, which keeps their members in the order they were written (jsonb would not);
    // text compared and ordered by code point, as SQLite does, whatever the database's locale.
    private static readonly string[] PostgresMigrations =
    [
        """
        CREATE TABLE entities (
            rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            doc text COLLATE "C" NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            modified_at text COLLATE "C" NOT NULL
        );
        CREATE TABLE entity_types (
            type text COLLATE "C" NOT NULL,
            rid bigint NOT NULL REFERENCES entities(rid) ON DELETE CASCADE,
            PRIMARY KEY (type, rid)
        );
        CREATE INDEX entity_types_rid ON entity_types(rid);
        """,
        """
        CREATE TABLE attr_values (
            path text COLLATE "C" NOT NULL,
            num double precision,
            str text COLLATE "C",
            rid bigint NOT NULL
        );
        CREATE INDEX attr_values_num ON attr_values(path, num, rid);
        CREATE INDEX attr_values_str ON attr_values(path, str, rid);
        CREATE INDEX attr_values_rid ON attr_values(rid);
        CREATE TABLE geo (
            gid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            rid bigint NOT NULL,
            attr text COLLATE "C" NOT NULL,
            bounds public.geometry NOT NULL
        );
        CREATE INDEX geo_bounds ON geo USING gist (bounds);
        CREATE INDEX geo_rid ON geo(rid);
        CREATE TABLE scopes (
            scope text COLLATE "C" NOT NULL,
            rid bigint NOT NULL,
            PRIMARY KEY (scope, rid)
        );
        CREATE INDEX scopes_rid ON scopes(rid);
        """,
        """
        CREATE TABLE entity_attrs (
            attr text COLLATE "C" NOT NULL,
            attr_type text COLLATE "C" NOT NULL,
            rid bigint NOT NULL,
            PRIMARY KEY (attr, attr_type, rid)
        );
        CREATE INDEX entity_attrs_rid ON entity_attrs(rid);
        """,
        """
        CREATE TABLE subscriptions (
            rowid bigint GENERATED ALWAYS AS IDENTITY,
            id text COLLATE "C" PRIMARY KEY,
            doc text COLLATE "C" NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            modified_at text COLLATE "C" NOT NULL
        );
        CREATE TABLE subscription_status (
            subscription_id text COLLATE "C" PRIMARY KEY,
            times_sent bigint NOT NULL DEFAULT 0,
            times_failed bigint NOT NULL DEFAULT 0,
            last_notification text COLLATE "C",
            last_success text COLLATE "C",
            last_failure text COLLATE "C",
            consecutive_failures bigint NOT NULL DEFAULT 0
        );
        CREATE TABLE outbox (
            nid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            subscription_id text COLLATE "C" NOT NULL,
            endpoint text COLLATE "C" NOT NULL,
            content_type text COLLATE "C" NOT NULL,
            link text COLLATE "C",
            body text COLLATE "C" NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            attempts bigint NOT NULL DEFAULT 0,
            next_attempt double precision NOT NULL
        );
        CREATE INDEX outbox_due ON outbox(next_attempt);
        CREATE INDEX outbox_subscription ON outbox(subscription_id, nid);
        """,
        """
        CREATE TABLE temporal_entities (
            eid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            types text COLLATE "C" NOT NULL,
            scope text COLLATE "C",
            created_at text COLLATE "C" NOT NULL,
            modified_at text COLLATE "C" NOT NULL,
            deleted_at text COLLATE "C"
        );
        CREATE TABLE temporal_types (
            type text COLLATE "C" NOT NULL,
            eid bigint NOT NULL REFERENCES temporal_entities(eid) ON DELETE CASCADE,
            PRIMARY KEY (type, eid)
        );
        CREATE INDEX temporal_types_eid ON temporal_types(eid);
        CREATE TABLE attr_instances (
            iid bigserial,
            eid bigint NOT NULL REFERENCES temporal_entities(eid) ON DELETE CASCADE,
            attr text COLLATE "C" NOT NULL,
            dataset text COLLATE "C" NOT NULL DEFAULT '',
            observed double precision,
            created double precision NOT NULL,
            modified double precision NOT NULL,
            deleted double precision,
            num double precision,
            val text COLLATE "C",
            doc text COLLATE "C" NOT NULL,
            PRIMARY KEY (iid, created)
        ) PARTITION BY RANGE (created);
        CREATE TABLE attr_instances_default PARTITION OF attr_instances DEFAULT;
        CREATE INDEX attr_instances_observed ON attr_instances(eid, attr, observed, num);
        CREATE INDEX attr_instances_created ON attr_instances(eid, attr, created);
        CREATE INDEX attr_instances_age ON attr_instances((coalesce(observed, created)));
        CREATE TABLE attr_hours (
            eid bigint NOT NULL,
            attr text COLLATE "C" NOT NULL,
            hour bigint NOT NULL,
            cnt bigint NOT NULL,
            n bigint NOT NULL,
            total double precision NOT NULL,
            sumsq double precision NOT NULL,
            lo double precision,
            hi double precision,
            PRIMARY KEY (eid, attr, hour)
        );
        """,
        """
        CREATE TABLE registrations (
            rowid bigint GENERATED ALWAYS AS IDENTITY,
            id text COLLATE "C" PRIMARY KEY,
            doc text COLLATE "C" NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            modified_at text COLLATE "C" NOT NULL
        );
        CREATE TABLE registration_status (
            registration_id text COLLATE "C" PRIMARY KEY,
            times_sent bigint NOT NULL DEFAULT 0,
            times_failed bigint NOT NULL DEFAULT 0,
            last_success text COLLATE "C",
            last_failure text COLLATE "C"
        );
        """,
        """
        CREATE TABLE csource_subscriptions (
            rowid bigint GENERATED ALWAYS AS IDENTITY,
            id text COLLATE "C" PRIMARY KEY,
            doc text COLLATE "C" NOT NULL,
            created_at text COLLATE "C" NOT NULL,
            modified_at text COLLATE "C" NOT NULL
        );
        """,        """
        CREATE TABLE delivery_leases (
            subscription_id text COLLATE "C" PRIMARY KEY,
            node text COLLATE "C" NOT NULL,
            until double precision NOT NULL
        );
        CREATE TABLE periodic_runs (
            subscription_id text COLLATE "C" PRIMARY KEY,
            fired double precision NOT NULL
        );
        CREATE TABLE generations (
            name text COLLATE "C" PRIMARY KEY,
            value bigint NOT NULL
        );
        """,
        // 9: an entity's rows found by (rid, path): a probe of one entity, and an update's delete of the rows of
        // the attributes it changed.
        """
        CREATE INDEX attr_values_rid_path ON attr_values(rid, path);
        DROP INDEX attr_values_rid;
        """,
    ];

    public static void Migrate(DbConnection connection)
    {
        if (Db.IsPostgres(connection))
        {
            MigratePostgres(connection);
            return;
        }
        Migrate(connection, Migrations.Length);
    }

    /// Brings a SQLite store to the given version (a test makes a store as an older release left it).
    internal static void Migrate(DbConnection connection, int target)
    {
        using var tx = connection.BeginTransaction();
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"));
        for (var v = version; v < target; v++)
        {
            TenantStore.Execute(connection, Migrations[v]);
        }
        if (version < target)
        {
            TenantStore.Execute(connection, $"PRAGMA user_version={target}");
        }
        tx.Commit();
    }

    // Whichever node comes first migrates; the others wait on the lock and then find the schema current.
    private static void MigratePostgres(DbConnection connection)
    {
        using var tx = connection.BeginTransaction();
        TenantStore.Execute(connection, """
            SELECT pg_advisory_xact_lock(hashtext('agora migrate ' || current_schema()));
            CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);
            INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);
            """);
        var version = Convert.ToInt32(Scalar(connection, "SELECT version FROM schema_version"));
        for (var v = version; v < PostgresMigrations.Length; v++)
        {
            TenantStore.Execute(connection, PostgresMigrations[v]);
        }
        TenantStore.Execute(connection, $"UPDATE schema_version SET version = {PostgresMigrations.Length}");
        tx.Commit();
        HistoryPartitions(connection, DateTimeOffset.UtcNow);
    }

    /// Makes sure the history has a partition for this month and the next (PostgreSQL), so that instances are
    /// written into a month's own table and its indexes: a month's history is read, and dropped by retention,
    /// without touching the others. Run at every start and twice a day. An instance recorded in a month without
    /// a partition of its own lands in attr_instances_default, which keeps it as well. Returns what could not
    /// be made, and why.
    public static List<string> HistoryPartitions(DbConnection connection, DateTimeOffset now)
    {
        var failed = new List<string>();
        var month = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        foreach (var start in new[] { month, month.AddMonths(1) })
        {
            var end = start.AddMonths(1);
            try
            {
                using var tx = connection.BeginTransaction();
                TenantStore.Execute(connection, $"""
                    SELECT pg_advisory_xact_lock(hashtext('agora partitions ' || current_schema()));
                    CREATE TABLE IF NOT EXISTS attr_instances_{start:yyyy_MM} PARTITION OF attr_instances
                        FOR VALUES FROM ({start.ToUnixTimeMilliseconds()}) TO ({end.ToUnixTimeMilliseconds()});
                    """);
                tx.Commit();
            }
            catch (DbException e)
            {
                // Typically the default partition holds instances of that month already: they stay there, and
                // are still read, but that month's history is not in a table of its own.
                failed.Add($"attr_instances_{start:yyyy_MM}: {e.Message}");
            }
        }
        return failed;
    }

    private static object? Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
