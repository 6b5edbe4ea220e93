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

    /// Text as PostgreSQL can store it: without NUL and without unpaired UTF-16 surrogates (which JSON's \u
    /// escapes can produce), each replaced by U+FFFD. Used on what is indexed from values and on what queries
    /// compare with it, so both sides agree; SQLite is given the same text so that both stores answer alike.
    public static string Text(string text)
    {
        var clean = true;
        for (var i = 0; i < text.Length && clean; i++)
        {
            var c = text[i];
            clean = c != '\0' && (!char.IsSurrogate(c) || (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[++i])));
        }
        if (clean)
        {
            return text;
        }
        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (chars[i] == '\0' || char.IsSurrogate(chars[i]))
            {
                chars[i] = '\uFFFD';
            }
        }
        return new string(chars);
    }

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
