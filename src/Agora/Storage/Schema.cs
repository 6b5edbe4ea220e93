using Microsoft.Data.Sqlite;

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
    ];

    public static void Migrate(SqliteConnection connection)
    {
        using var tx = connection.BeginTransaction();
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"));
        for (var v = version; v < Migrations.Length; v++)
        {
            SqliteTenantStore.Execute(connection, Migrations[v]);
        }
        if (version < Migrations.Length)
        {
            SqliteTenantStore.Execute(connection, $"PRAGMA user_version={Migrations.Length}");
        }
        tx.Commit();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
