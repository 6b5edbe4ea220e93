using System.Data.Common;
using System.Text.RegularExpressions;
using Agora.Hosting;
using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// A database of Agora's own, apart from the tenants' stores (security, market). On SQLite a file in the data
/// folder (security.sqlite, market.sqlite), made readable by its owner only, since it holds credential hashes,
/// client addresses or the names of consumers. On PostgreSQL the same tables in Agora's schema, which every node
/// shares: a credential made or revoked through one node holds on all, and quotas are counted once. Either way
/// its schema is applied at start-up and each use takes a pooled connection.
internal sealed partial class OwnerOnlyDatabase
{
    private readonly Func<DbConnection> _connect;

    private OwnerOnlyDatabase(Func<DbConnection> connect, string path, bool postgres)
    {
        _connect = connect;
        Path = path;
        IsPostgres = postgres;
    }

    /// The database for this configuration: a file of the data folder, or Agora's schema on PostgreSQL.
    /// schema is written for SQLite; PostgreSQL gets it rendered by ForPostgres.
    public static OwnerOnlyDatabase Of(AgoraOptions options, PostgresCatalog? catalog, string file, string schema)
    {
        OwnerOnlyDatabase database;
        if (catalog is null)
        {
            Directory.CreateDirectory(options.Data);
            var path = System.IO.Path.Combine(options.Data, file);
            if (!OperatingSystem.IsWindows() && !File.Exists(path))
            {
                new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }).Dispose();
            }
            var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, ForeignKeys = true }.ToString();
            database = new OwnerOnlyDatabase(() => new SqliteConnection(connectionString), path, postgres: false);
            using var connection = database.Open();
            Execute(connection, schema);
        }
        else
        {
            database = new OwnerOnlyDatabase(catalog.DataSource(catalog.Prefix).CreateConnection, $"schema {catalog.Prefix} of the PostgreSQL database", postgres: true);
            using var connection = database.Open();
            using var tx = connection.BeginTransaction();
            Execute(connection, $"SELECT pg_advisory_xact_lock(hashtext('agora {file}'));\n" + ForPostgres(schema));
            tx.Commit();
        }
        return database;
    }

    /// Where the data is, for messages: the file, or the schema.
    public string Path { get; }

    public bool IsPostgres { get; }

    public DbConnection Open()
    {
        var connection = _connect();
        connection.Open();
        if (!IsPostgres)
        {
            Execute(connection, "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;");
        }
        return connection;
    }

    /// Runs the schema changes that follow the base schema (columns later versions added, indexes, triggers): on
    /// PostgreSQL in one transaction under the same lock as the schema, so that nodes starting together do not
    /// run the same DDL at once.
    public void Migrate(string name, Action<DbConnection> migrate)
    {
        using var connection = Open();
        if (!IsPostgres)
        {
            migrate(connection);
            return;
        }
        using var tx = connection.BeginTransaction();
        Execute(connection, $"SELECT pg_advisory_xact_lock(hashtext('agora {name}'))");
        migrate(connection);
        tx.Commit();
    }

    /// Adds a column a later version brought, when the table lacks it; true when it was added.
    public bool AddColumn(DbConnection connection, string table, string column, string type)
    {
        if (IsPostgres)
        {
            using var exists = connection.CreateCommand();
            exists.CommandText = "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t AND column_name = @c";
            exists.Parameters.AddWithValue("@t", table);
            exists.Parameters.AddWithValue("@c", column);
            if (Convert.ToInt64(exists.ExecuteScalar()) > 0)
            {
                return false;
            }
            Execute(connection, $"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {ForPostgres(type)}");
            return true;
        }
        using var columns = connection.CreateCommand();
        columns.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{column}'";
        if ((long)columns.ExecuteScalar()! > 0)
        {
            return false;
        }
        Execute(connection, $"ALTER TABLE {table} ADD COLUMN {column} {type}");
        return true;
    }

    /// A SQLite schema of these stores as PostgreSQL takes it: without pragmas, rowid tables and SQLite
    /// triggers; with 64-bit integers, byte arrays, and text compared by code point as SQLite does; and with a
    /// rowid column on every table, since these stores list rows in the order they were added.
    public static string ForPostgres(string sqlite)
    {
        var sql = Pragma().Replace(sqlite, "");
        sql = SqliteTrigger().Replace(sql, "");
        sql = sql.Replace(") WITHOUT ROWID;", ");", StringComparison.Ordinal)
            .Replace("INTEGER PRIMARY KEY AUTOINCREMENT", "bigserial PRIMARY KEY", StringComparison.Ordinal);
        sql = Integer().Replace(sql, "bigint");
        sql = sql.Replace(" BLOB", " bytea", StringComparison.Ordinal);
        sql = Text().Replace(sql, "text COLLATE \"C\"");
        return NewTable().Replace(sql, "$0\n    rowid bigserial,");
    }

    public static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [GeneratedRegex(@"PRAGMA [^;]*;")]
    private static partial Regex Pragma();

    [GeneratedRegex(@"CREATE TRIGGER .*?END;", RegexOptions.Singleline)]
    private static partial Regex SqliteTrigger();

    [GeneratedRegex(@"\bINTEGER\b")]
    private static partial Regex Integer();

    [GeneratedRegex(@"\bTEXT\b")]
    private static partial Regex Text();

    [GeneratedRegex(@"CREATE TABLE IF NOT EXISTS \w+ \(")]
    private static partial Regex NewTable();
}
