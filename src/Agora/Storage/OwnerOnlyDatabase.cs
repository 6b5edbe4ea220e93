using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// A SQLite file of Agora's own in the data folder, apart from the tenants' stores (security.sqlite,
/// market.sqlite): made readable by its owner only, since it holds credential hashes, client addresses or the
/// names of consumers; its schema applied at start-up; a pooled connection per use.
internal sealed class OwnerOnlyDatabase
{
    private readonly string _connectionString;

    public OwnerOnlyDatabase(string folder, string file, string schema)
    {
        Directory.CreateDirectory(folder);
        Path = System.IO.Path.Combine(folder, file);
        if (!OperatingSystem.IsWindows() && !File.Exists(Path))
        {
            new FileStream(Path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }).Dispose();
        }
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Pooling = true, ForeignKeys = true }.ToString();
        using var connection = Open();
        Execute(connection, schema);
    }

    public string Path { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;");
        return connection;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
