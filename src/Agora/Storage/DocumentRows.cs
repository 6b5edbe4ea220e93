using System.Data.Common;
using System.Text.Json.Nodes;

namespace Agora.Storage;

/// A table of JSON documents keyed by id (id, doc, created_at, modified_at), as subscriptions and context
/// source registrations are stored; rowid keeps them in creation order.
internal sealed class DocumentRows(string table)
{
    public JsonObject? Find(DbConnection c, string id)
    {
        using var command = Sql.Command(c, $"SELECT doc FROM {table} WHERE id = @id", ("@id", id));
        return command.ExecuteScalar() is string doc ? JsonNode.Parse(doc)!.AsObject() : null;
    }

    public List<JsonObject> All(DbConnection c) => Read(c, $"SELECT doc FROM {table} ORDER BY rowid");

    public List<JsonObject> Page(DbConnection c, int offset, int limit) =>
        Read(c, $"SELECT doc FROM {table} ORDER BY rowid LIMIT @limit OFFSET @offset", ("@limit", limit), ("@offset", offset));

    public long Count(DbConnection c)
    {
        using var command = Sql.Command(c, $"SELECT COUNT(*) FROM {table}");
        return (long)command.ExecuteScalar()!;
    }

    /// False when a document with this id exists already.
    public bool Insert(DbConnection c, JsonObject doc, string now)
    {
        using var command = Sql.Command(c, $"INSERT INTO {table}(id, doc, created_at, modified_at) VALUES (@id, @doc, @now, @now) ON CONFLICT(id) DO NOTHING",
            ("@id", (string)doc["id"]!), ("@doc", doc.ToJsonString()), ("@now", now));
        return Changed(c, command.ExecuteNonQuery() == 1);
    }

    /// False when no document has this id.
    public bool Update(DbConnection c, JsonObject doc, string now)
    {
        using var command = Sql.Command(c, $"UPDATE {table} SET doc = @doc, modified_at = @now WHERE id = @id",
            ("@id", (string)doc["id"]!), ("@doc", doc.ToJsonString()), ("@now", now));
        return Changed(c, command.ExecuteNonQuery() == 1);
    }

    public bool Delete(DbConnection c, string id)
    {
        using var command = Sql.Command(c, $"DELETE FROM {table} WHERE id = @id", ("@id", id));
        return Changed(c, command.ExecuteNonQuery() == 1);
    }

    // Other nodes keep these documents in memory: a change tells them (see Generations).
    private bool Changed(DbConnection c, bool changed)
    {
        if (changed)
        {
            Generations.Bump(c, table);
        }
        return changed;
    }

    private static List<JsonObject> Read(DbConnection c, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Sql.Command(c, sql, parameters);
        using var reader = command.ExecuteReader();
        var list = new List<JsonObject>();
        while (reader.Read())
        {
            list.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
        }
        return list;
    }
}

/// Parameterised commands, written once.
internal static class Sql
{
    public static DbCommand Command(DbConnection c, string sql, params (string Name, object Value)[] parameters)
    {
        var command = Statements.For(c, sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
