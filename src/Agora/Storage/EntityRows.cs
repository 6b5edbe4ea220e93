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

    /// The (expanded) types of an entity, empty when there is no such entity.
    public static List<string> TypesOf(SqliteConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT t.type FROM entity_types t JOIN entities e ON e.rid = t.rid WHERE e.id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        var types = new List<string>();
        while (reader.Read())
        {
            types.Add(reader.GetString(0));
        }
        return types;
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
        WriteIndexes(connection, rid, doc);
        EntityChanges.Of(connection)?.Record(null, doc);
    }

    public static void Update(SqliteConnection connection, JsonObject doc)
    {
        var changes = EntityChanges.Of(connection);
        var before = changes is null ? null : Find(connection, (string)doc["id"]!);
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE entities SET doc = $doc, modified_at = $m WHERE id = $id RETURNING rid";
        command.Parameters.AddWithValue("$id", (string)doc["id"]!);
        command.Parameters.AddWithValue("$doc", doc.ToJsonString());
        command.Parameters.AddWithValue("$m", (string?)doc["modifiedAt"] ?? "");
        var rid = (long)command.ExecuteScalar()!;
        WriteTypes(connection, rid, doc, replace: true);
        ClearIndexes(connection, rid);
        WriteIndexes(connection, rid, doc);
        changes?.Record(before, doc);
    }

    public static bool Delete(SqliteConnection connection, string id)
    {
        var changes = EntityChanges.Of(connection);
        var before = changes is null ? null : Find(connection, id);
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM entities WHERE id = $id RETURNING rid";
        command.Parameters.AddWithValue("$id", id);
        if (command.ExecuteScalar() is not long rid)
        {
            return false;
        }
        ClearIndexes(connection, rid);
        if (before is not null)
        {
            changes!.Record(before, null);
        }
        return true;
    }

    private static void ClearIndexes(SqliteConnection connection, long rid)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM attr_values WHERE rid = $rid;
            DELETE FROM geo WHERE id IN (SELECT gid FROM geo_rids WHERE rid = $rid);
            DELETE FROM geo_rids WHERE rid = $rid;
            DELETE FROM scopes WHERE rid = $rid;
            DELETE FROM entity_attrs WHERE rid = $rid;
            """;
        command.Parameters.AddWithValue("$rid", rid);
        command.ExecuteNonQuery();
    }

    private static void WriteIndexes(SqliteConnection connection, long rid, JsonObject doc)
    {
        var values = new List<IndexRows.ValueRow>(32);
        IndexRows.Values(doc, values);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO attr_values (path, num, str, rid) VALUES ($path, $num, $str, $rid)";
            var path = command.Parameters.Add("$path", SqliteType.Text);
            var num = command.Parameters.Add("$num", SqliteType.Real);
            var str = command.Parameters.Add("$str", SqliteType.Text);
            command.Parameters.AddWithValue("$rid", rid);
            foreach (var row in values)
            {
                path.Value = row.Path;
                num.Value = row.Num is { } n ? n : DBNull.Value;
                str.Value = (object?)row.Str ?? DBNull.Value;
                command.ExecuteNonQuery();
            }
        }

        var geometries = new List<IndexRows.GeoRow>(2);
        IndexRows.Geometries(doc, geometries);
        foreach (var g in geometries)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO geo (minx, maxx, miny, maxy, rid, attr) VALUES ($minx, $maxx, $miny, $maxy, $rid, $attr);
                INSERT INTO geo_rids (rid, gid) VALUES ($rid, last_insert_rowid());
                """;
            command.Parameters.AddWithValue("$minx", g.MinX);
            command.Parameters.AddWithValue("$maxx", g.MaxX);
            command.Parameters.AddWithValue("$miny", g.MinY);
            command.Parameters.AddWithValue("$maxy", g.MaxY);
            command.Parameters.AddWithValue("$rid", rid);
            command.Parameters.AddWithValue("$attr", g.Attribute);
            command.ExecuteNonQuery();
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT OR IGNORE INTO entity_attrs (attr, attr_type, rid) VALUES ($attr, $type, $rid)";
            var attr = command.Parameters.Add("$attr", SqliteType.Text);
            var type = command.Parameters.Add("$type", SqliteType.Text);
            command.Parameters.AddWithValue("$rid", rid);
            foreach (var (key, value) in doc)
            {
                if (!key.Contains(':') || value is not JsonArray instances)
                {
                    continue;
                }
                foreach (var instance in instances.OfType<JsonObject>())
                {
                    attr.Value = key;
                    type.Value = (string?)instance["type"] ?? "Property";
                    command.ExecuteNonQuery();
                }
            }
        }

        if (doc["scope"] is JsonArray scopes)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT OR IGNORE INTO scopes (scope, rid) VALUES ($scope, $rid)";
            var scope = command.Parameters.Add("$scope", SqliteType.Text);
            command.Parameters.AddWithValue("$rid", rid);
            foreach (var s in scopes)
            {
                scope.Value = (string)s!;
                command.ExecuteNonQuery();
            }
        }
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
