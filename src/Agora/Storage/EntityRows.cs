using System.Text.Json.Nodes;
using Agora.Errors;
using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// The SQL of the entities table. Documents are stored expanded (see Entities/ExpandedEntity) and written
/// whole: every operation that changes an entity reads it and writes it back inside the one writer
/// transaction, so it is atomic without row locks.
internal static class EntityRows
{
    private const int SqliteConstraint = 19;

    public static JsonObject? Find(SqliteConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() is string doc ? JsonNode.Parse(doc)!.AsObject() : null;
    }

    public static bool Exists(SqliteConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() is not null;
    }

    public static void Insert(SqliteConnection connection, JsonObject doc)
    {
        var id = (string)doc["id"]!;
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO entities (id, doc, created_at, modified_at) VALUES ($id, $doc, $c, $m) RETURNING rid";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$doc", doc.ToJsonString());
        command.Parameters.AddWithValue("$c", (string?)doc["createdAt"] ?? "");
        command.Parameters.AddWithValue("$m", (string?)doc["modifiedAt"] ?? "");
        long rid;
        try
        {
            rid = (long)command.ExecuteScalar()!;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new NgsiLdException(ErrorTypes.AlreadyExists, "Entity already exists", $"An entity with id {id} already exists.");
        }
        WriteTypes(connection, rid, doc, replace: false);
    }

    public static void Update(SqliteConnection connection, JsonObject doc)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE entities SET doc = $doc, modified_at = $m WHERE id = $id RETURNING rid";
        command.Parameters.AddWithValue("$id", (string)doc["id"]!);
        command.Parameters.AddWithValue("$doc", doc.ToJsonString());
        command.Parameters.AddWithValue("$m", (string?)doc["modifiedAt"] ?? "");
        var rid = (long)command.ExecuteScalar()!;
        WriteTypes(connection, rid, doc, replace: true);
    }

    public static bool Delete(SqliteConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery() > 0;
    }

    private static void WriteTypes(SqliteConnection connection, long rid, JsonObject doc, bool replace)
    {
        if (replace)
        {
            using var clear = connection.CreateCommand();
            clear.CommandText = "DELETE FROM entity_types WHERE rid = $rid";
            clear.Parameters.AddWithValue("$rid", rid);
            clear.ExecuteNonQuery();
        }
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR IGNORE INTO entity_types (type, rid) VALUES ($type, $rid)";
        var type = command.Parameters.Add("$type", SqliteType.Text);
        command.Parameters.AddWithValue("$rid", rid);
        foreach (var t in doc["type"]!.AsArray())
        {
            type.Value = (string)t!;
            command.ExecuteNonQuery();
        }
    }
}
