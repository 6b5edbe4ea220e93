using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Agora.Storage;

/// What the store's SQL needs of ADO.NET beyond its base classes, for both providers: the same statements,
/// written with @parameters, run on SQLite (Microsoft.Data.Sqlite) and on PostgreSQL (Npgsql).
internal static class Db
{
    /// Whether a connection is PostgreSQL's; the few statements that differ (geometry, JSON, index hints) ask.
    public static bool IsPostgres(DbConnection connection) => connection is NpgsqlConnection;

    public static DbParameter AddWithValue(this DbParameterCollection parameters, string name, object? value) => parameters switch
    {
        SqliteParameterCollection sqlite => sqlite.AddWithValue(name, value ?? DBNull.Value),
        NpgsqlParameterCollection npgsql => npgsql.AddWithValue(name, value ?? DBNull.Value),
        _ => throw new NotSupportedException(parameters.GetType().Name),
    };

    /// A typed parameter whose value is set for each execution of a prepared statement.
    public static DbParameter Add(this DbParameterCollection parameters, string name, DbType type)
    {
        DbParameter parameter = parameters is NpgsqlParameterCollection
            ? new NpgsqlParameter { ParameterName = name, DbType = type }
            : new SqliteParameter { ParameterName = name, DbType = type };
        parameters.Add(parameter);
        return parameter;
    }
}
