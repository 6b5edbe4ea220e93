using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Agora.Tests;

/// Which store the tests run on. Unset, the embedded SQLite; with AGORA_TEST_POSTGRES set to an Npgsql
/// connection string (`.ci/run` sets it to the cluster it starts), every Agora a test starts uses the
/// PostgreSQL provider, under a schema of its own named after its data folder, so that tests stay apart
/// and a process restarted on the same folder finds its data again.
internal static class TestDatabase
{
    public static string? ConnectionString { get; } = Environment.GetEnvironmentVariable("AGORA_TEST_POSTGRES") is { Length: > 0 } s ? s : null;

    public static bool IsPostgres => ConnectionString is not null;

    /// The settings that put an Agora on the test database (none on SQLite).
    public static (string Key, string Value)[] Settings(string data) => ConnectionString is null
        ? []
        : [("Agora:Storage:Provider", "Postgres"), ("Agora:Storage:ConnectionString", ConnectionString), ("Agora:Storage:Schema", SchemaOf(data))];

    /// The same settings as command-line arguments.
    public static string[] Arguments(string data) => [.. Settings(data).SelectMany(s => new[] { "--" + s.Key, s.Value })];

    public static string SchemaOf(string data) =>
        "t" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(data))))[..24];

    /// Drops the schemas of a data folder's Agora: its own and its tenants'.
    public static async Task DropAsync(string data)
    {
        if (ConnectionString is null)
        {
            return;
        }
        var prefix = SchemaOf(data);
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var schemas = new List<string>();
        await using (var find = new NpgsqlCommand("SELECT nspname FROM pg_namespace WHERE nspname = @p OR nspname LIKE @p || '\\_%'", connection))
        {
            find.Parameters.AddWithValue("@p", prefix);
            await using var reader = await find.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                schemas.Add(reader.GetString(0));
            }
        }
        foreach (var schema in schemas)
        {
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}

/// A test of the PostgreSQL provider alone (several nodes on one database): skipped, and shown as skipped,
/// when the tests run on SQLite.
internal sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabase.IsPostgres)
        {
            Skip = "Needs PostgreSQL: set AGORA_TEST_POSTGRES (.ci/run does).";
        }
    }
}

/// A test of what the SQLite store alone has (its files in the data folder): skipped, and shown as skipped,
/// when the tests run on PostgreSQL, where those tables live in the database.
internal sealed class SqliteFactAttribute : FactAttribute
{
    public SqliteFactAttribute()
    {
        if (TestDatabase.IsPostgres)
        {
            Skip = "Checks a file of the SQLite store; on PostgreSQL the same tables are in the database.";
        }
    }
}
