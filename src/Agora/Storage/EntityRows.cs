using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Errors;
using Npgsql;

namespace Agora.Storage;

/// The SQL of the entities table. Documents are stored expanded (see Entities/ExpandedEntity) and written
/// whole: every operation that changes an entity reads it and writes it back inside the one writer
/// transaction, so it is atomic without row locks. Its index rows are written by the provider's own class
/// (SqliteIndexes, PostgresIndexes), from what IndexChange says changed.
internal static class EntityRows
{
    public static JsonObject? Find(DbConnection connection, string id) =>
        FindText(connection, id) is { } doc ? JsonNode.Parse(doc)!.AsObject() : null;

    /// The stored document as text, for EntityWriter.
    public static string? FindText(DbConnection connection, string id)
    {
        using var command = Statements.For(connection, "SELECT doc FROM entities WHERE id = @id");
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() as string;
    }

    /// The (expanded) types of an entity, empty when there is no such entity.
    public static List<string> TypesOf(DbConnection connection, string id)
    {
        using var command = Statements.For(connection, "SELECT t.type FROM entity_types t JOIN entities e ON e.rid = t.rid WHERE e.id = @id");
        command.Parameters.AddWithValue("@id", id);
        using var reader = command.ExecuteReader();
        var types = new List<string>();
        while (reader.Read())
        {
            types.Add(reader.GetString(0));
        }
        return types;
    }

    public static bool Exists(DbConnection connection, string id)
    {
        using var command = Statements.For(connection, "SELECT 1 FROM entities WHERE id = @id");
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() is not null;
    }

    /// A new entity's document as stored, and its index rows: computed before the write is queued, so that
    /// the writer, which every write of the tenant waits for, only runs statements.
    public sealed record NewEntity(JsonObject Doc, string Json, IndexChange Index)
    {
        public string Id => (string)Doc["id"]!;
    }

    public static NewEntity Prepare(JsonObject doc) => new(doc, doc.ToJsonString(), IndexChange.Create(doc));

    public static void Insert(DbConnection connection, JsonObject doc) => Insert(connection, Prepare(doc));

    public static void Insert(DbConnection connection, NewEntity entity)
    {
        var doc = entity.Doc;
        using var command = Statements.For(connection, "INSERT INTO entities (id, doc, created_at, modified_at) VALUES (@id, @doc, @c, @m) ON CONFLICT (id) DO NOTHING RETURNING rid");
        command.Parameters.AddWithValue("@id", entity.Id);
        command.Parameters.AddWithValue("@doc", entity.Json);
        command.Parameters.AddWithValue("@c", (string?)doc["createdAt"] ?? "");
        command.Parameters.AddWithValue("@m", (string?)doc["modifiedAt"] ?? "");
        // A taken id inserts nothing rather than failing the statement, which on PostgreSQL would abort the
        // whole transaction of the writer's group.
        if (command.ExecuteScalar() is not long rid)
        {
            throw new NgsiLdException(ErrorTypes.AlreadyExists, "Entity already exists", $"An entity with id {entity.Id} already exists.");
        }
        WriteIndexes(connection, rid, entity.Index);
        EntityChanges.Of(connection)?.Record(null, doc);
    }

    /// Writes an entity's new document. stored, when given, is the document as it is stored now, untouched (a
    /// caller that read it and built a new document from it): it saves reading it again. The index rows of
    /// the attributes that did not change are left as they are.
    public static void Update(DbConnection connection, JsonObject doc, JsonObject? stored = null)
    {
        var id = (string)doc["id"]!;
        var before = stored ?? Find(connection, id) ?? throw new InvalidOperationException($"Entity {id} is not stored.");
        using var command = Statements.For(connection, "UPDATE entities SET doc = @doc, modified_at = @m WHERE id = @id RETURNING rid");
        command.Parameters.AddWithValue("@id", id);
        command.Parameters.AddWithValue("@doc", doc.ToJsonString());
        command.Parameters.AddWithValue("@m", (string?)doc["modifiedAt"] ?? "");
        var rid = (long)command.ExecuteScalar()!;
        WriteIndexes(connection, rid, IndexChange.Update(before, doc));
        EntityChanges.Of(connection)?.Record(before, doc);
    }

    public static bool Delete(DbConnection connection, string id)
    {
        var changes = EntityChanges.Of(connection);
        var before = changes is null ? null : Find(connection, id);
        using var command = Statements.For(connection, "DELETE FROM entities WHERE id = @id RETURNING rid");
        command.Parameters.AddWithValue("@id", id);
        if (command.ExecuteScalar() is not long rid)
        {
            return false;
        }
        if (connection is NpgsqlConnection postgres)
        {
            PostgresIndexes.Clear(postgres, rid);
        }
        else
        {
            SqliteIndexes.Clear(connection, rid);
        }
        if (before is not null)
        {
            changes!.Record(before, null);
        }
        return true;
    }

    private static void WriteIndexes(DbConnection connection, long rid, IndexChange change)
    {
        if (connection is NpgsqlConnection postgres)
        {
            PostgresIndexes.Write(postgres, rid, change);
        }
        else
        {
            SqliteIndexes.Write(connection, rid, change);
        }
    }
}
