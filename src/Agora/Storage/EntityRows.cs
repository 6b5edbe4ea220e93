using System.Data;
using System.Data.Common;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Errors;
using Npgsql;

namespace Agora.Storage;

/// The SQL of the entities table. Documents are stored expanded (see Entities/ExpandedEntity) and written
/// whole: every operation that changes an entity reads it and writes it back inside the one writer
/// transaction, so it is atomic without row locks.
internal static class EntityRows
{
    public static JsonObject? Find(DbConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM entities WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() is string doc ? JsonNode.Parse(doc)!.AsObject() : null;
    }

    /// The (expanded) types of an entity, empty when there is no such entity.
    public static List<string> TypesOf(DbConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT t.type FROM entity_types t JOIN entities e ON e.rid = t.rid WHERE e.id = @id";
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
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM entities WHERE id = @id";
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() is not null;
    }

    public static void Insert(DbConnection connection, JsonObject doc)
    {
        var id = (string)doc["id"]!;
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO entities (id, doc, created_at, modified_at) VALUES (@id, @doc, @c, @m) ON CONFLICT (id) DO NOTHING RETURNING rid";
        command.Parameters.AddWithValue("@id", id);
        command.Parameters.AddWithValue("@doc", doc.ToJsonString());
        command.Parameters.AddWithValue("@c", (string?)doc["createdAt"] ?? "");
        command.Parameters.AddWithValue("@m", (string?)doc["modifiedAt"] ?? "");
        // A taken id inserts nothing rather than failing the statement, which on PostgreSQL would abort the
        // whole transaction of the writer's group.
        if (command.ExecuteScalar() is not long rid)
        {
            throw new NgsiLdException(ErrorTypes.AlreadyExists, "Entity already exists", $"An entity with id {id} already exists.");
        }
        WriteRows(connection, rid, doc, replace: false);
        EntityChanges.Of(connection)?.Record(null, doc);
    }

    /// Writes an entity's new document. stored, when given, is the document as it is stored now, untouched (a
    /// caller that read it and built a new document from it): it saves reading it again for the change record.
    public static void Update(DbConnection connection, JsonObject doc, JsonObject? stored = null)
    {
        var changes = EntityChanges.Of(connection);
        var before = changes is null ? null : stored ?? Find(connection, (string)doc["id"]!);
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE entities SET doc = @doc, modified_at = @m WHERE id = @id RETURNING rid";
        command.Parameters.AddWithValue("@id", (string)doc["id"]!);
        command.Parameters.AddWithValue("@doc", doc.ToJsonString());
        command.Parameters.AddWithValue("@m", (string?)doc["modifiedAt"] ?? "");
        var rid = (long)command.ExecuteScalar()!;
        WriteRows(connection, rid, doc, replace: true);
        changes?.Record(before, doc);
    }

    public static bool Delete(DbConnection connection, string id)
    {
        var changes = EntityChanges.Of(connection);
        var before = changes is null ? null : Find(connection, id);
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM entities WHERE id = @id RETURNING rid";
        command.Parameters.AddWithValue("@id", id);
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

    /// The entity's type and index rows, after deleting the old ones when it replaces them.
    private static void WriteRows(DbConnection connection, long rid, JsonObject doc, bool replace)
    {
        if (connection is NpgsqlConnection postgres)
        {
            WritePostgresRows(postgres, rid, doc, replace);
            return;
        }
        WriteTypes(connection, rid, doc, replace);
        if (replace)
        {
            ClearIndexes(connection, rid);
        }
        WriteIndexes(connection, rid, doc);
    }

    private static void ClearIndexes(DbConnection connection, long rid)
    {
        using var clear = connection.CreateCommand();
        clear.CommandText = ClearIndexesSql(connection);
        clear.Parameters.AddWithValue("@rid", rid);
        clear.ExecuteNonQuery();
    }

    // The statements that delete an entity's index rows (not its types), taking @rid.
    private static string ClearIndexesSql(DbConnection connection) =>
        Db.IsPostgres(connection)
            ? """
              DELETE FROM attr_values WHERE rid = @rid;
              DELETE FROM geo WHERE rid = @rid;
              DELETE FROM scopes WHERE rid = @rid;
              DELETE FROM entity_attrs WHERE rid = @rid;
              """
            : """
              DELETE FROM attr_values WHERE rid = @rid;
              DELETE FROM geo WHERE id IN (SELECT gid FROM geo_rids WHERE rid = @rid);
              DELETE FROM geo_rids WHERE rid = @rid;
              DELETE FROM scopes WHERE rid = @rid;
              DELETE FROM entity_attrs WHERE rid = @rid;
              """;

    /// On PostgreSQL every row of every index table goes in one round trip: one statement per table, each
    /// inserting the rows of array parameters (unnest), all sent as one batch. SQLite, in process, has no
    /// round trips to save and keeps its prepared single-row statements.
    private static void WritePostgresRows(NpgsqlConnection connection, long rid, JsonObject doc, bool replace)
    {
        var values = new List<IndexRows.ValueRow>(32);
        IndexRows.Values(doc, values);
        var geometries = new List<IndexRows.GeoRow>(2);
        IndexRows.Geometries(doc, geometries);
        var attributes = IndexRows.Attributes(doc).ToList();
        var scopes = doc["scope"] is JsonArray list ? list.Select(s => (string)s!).ToArray() : [];

        var sql = new StringBuilder();
        if (replace)
        {
            sql.Append("DELETE FROM entity_types WHERE rid = @rid;").Append(ClearIndexesSql(connection));
        }
        sql.Append("INSERT INTO entity_types (type, rid) SELECT t, @rid FROM unnest(@types) AS t ON CONFLICT DO NOTHING;");
        if (values.Count > 0)
        {
            sql.Append("INSERT INTO attr_values (path, num, str, rid) SELECT p, n, s, @rid FROM unnest(@paths, @nums, @strs) AS v(p, n, s);");
        }
        if (geometries.Count > 0)
        {
            sql.Append("""
                INSERT INTO geo (rid, attr, bounds) SELECT @rid, a, ST_MakeEnvelope(x0, y0, x1, y1)
                FROM unnest(@geoattrs, @minx, @miny, @maxx, @maxy) AS g(a, x0, y0, x1, y1);
                """);
        }
        if (attributes.Count > 0)
        {
            sql.Append("INSERT INTO entity_attrs (attr, attr_type, rid) SELECT a, t, @rid FROM unnest(@attrs, @attrtypes) AS x(a, t) ON CONFLICT DO NOTHING;");
        }
        if (scopes.Length > 0)
        {
            sql.Append("INSERT INTO scopes (scope, rid) SELECT s, @rid FROM unnest(@scopes) AS s ON CONFLICT DO NOTHING;");
        }

        using var command = new NpgsqlCommand(sql.ToString(), connection);
        var parameters = command.Parameters;
        parameters.AddWithValue("@rid", rid);
        parameters.AddWithValue("@types", doc["type"]!.AsArray().Select(t => (string)t!).ToArray());
        parameters.AddWithValue("@paths", values.Select(v => Db.Text(v.Path)).ToArray());
        parameters.AddWithValue("@nums", values.Select(v => v.Num).ToArray());
        parameters.AddWithValue("@strs", values.Select(v => v.Str is { } text ? Db.Text(text) : null).ToArray());
        parameters.AddWithValue("@geoattrs", geometries.Select(g => g.Attribute).ToArray());
        parameters.AddWithValue("@minx", geometries.Select(g => g.MinX).ToArray());
        parameters.AddWithValue("@miny", geometries.Select(g => g.MinY).ToArray());
        parameters.AddWithValue("@maxx", geometries.Select(g => g.MaxX).ToArray());
        parameters.AddWithValue("@maxy", geometries.Select(g => g.MaxY).ToArray());
        parameters.AddWithValue("@attrs", attributes.Select(a => a.Attr).ToArray());
        parameters.AddWithValue("@attrtypes", attributes.Select(a => a.Type).ToArray());
        parameters.AddWithValue("@scopes", scopes);
        command.ExecuteNonQuery();
    }

    private static void WriteIndexes(DbConnection connection, long rid, JsonObject doc)
    {
        var values = new List<IndexRows.ValueRow>(32);
        IndexRows.Values(doc, values);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO attr_values (path, num, str, rid) VALUES (@path, @num, @str, @rid)";
            var path = command.Parameters.Add("@path", DbType.String);
            var num = command.Parameters.Add("@num", DbType.Double);
            var str = command.Parameters.Add("@str", DbType.String);
            command.Parameters.AddWithValue("@rid", rid);
            foreach (var row in values)
            {
                path.Value = Db.Text(row.Path);
                num.Value = row.Num is { } n ? n : DBNull.Value;
                str.Value = row.Str is { } text ? Db.Text(text) : DBNull.Value;
                command.ExecuteNonQuery();
            }
        }

        var geometries = new List<IndexRows.GeoRow>(2);
        IndexRows.Geometries(doc, geometries);
        foreach (var g in geometries)
        {
            using var command = connection.CreateCommand();
            // SQLite keeps the bounds in an R*Tree, PostgreSQL in a PostGIS box under a GiST index.
            command.CommandText = Db.IsPostgres(connection)
                ? "INSERT INTO geo (rid, attr, bounds) VALUES (@rid, @attr, ST_MakeEnvelope(@minx, @miny, @maxx, @maxy))"
                : """
                  INSERT INTO geo (minx, maxx, miny, maxy, rid, attr) VALUES (@minx, @maxx, @miny, @maxy, @rid, @attr);
                  INSERT INTO geo_rids (rid, gid) VALUES (@rid, last_insert_rowid());
                  """;
            command.Parameters.AddWithValue("@minx", g.MinX);
            command.Parameters.AddWithValue("@maxx", g.MaxX);
            command.Parameters.AddWithValue("@miny", g.MinY);
            command.Parameters.AddWithValue("@maxy", g.MaxY);
            command.Parameters.AddWithValue("@rid", rid);
            command.Parameters.AddWithValue("@attr", g.Attribute);
            command.ExecuteNonQuery();
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "INSERT INTO entity_attrs (attr, attr_type, rid) VALUES (@attr, @type, @rid) ON CONFLICT DO NOTHING";
            var attr = command.Parameters.Add("@attr", DbType.String);
            var type = command.Parameters.Add("@type", DbType.String);
            command.Parameters.AddWithValue("@rid", rid);
            foreach (var (name, attributeType) in IndexRows.Attributes(doc))
            {
                (attr.Value, type.Value) = (name, attributeType);
                command.ExecuteNonQuery();
            }
        }

        if (doc["scope"] is JsonArray scopes)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO scopes (scope, rid) VALUES (@scope, @rid) ON CONFLICT DO NOTHING";
            var scope = command.Parameters.Add("@scope", DbType.String);
            command.Parameters.AddWithValue("@rid", rid);
            foreach (var s in scopes)
            {
                scope.Value = (string)s!;
                command.ExecuteNonQuery();
            }
        }
    }

    private static void WriteTypes(DbConnection connection, long rid, JsonObject doc, bool replace)
    {
        if (replace)
        {
            using var clear = connection.CreateCommand();
            clear.CommandText = "DELETE FROM entity_types WHERE rid = @rid";
            clear.Parameters.AddWithValue("@rid", rid);
            clear.ExecuteNonQuery();
        }
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO entity_types (type, rid) VALUES (@type, @rid) ON CONFLICT DO NOTHING";
        var type = command.Parameters.Add("@type", DbType.String);
        command.Parameters.AddWithValue("@rid", rid);
        foreach (var t in doc["type"]!.AsArray())
        {
            type.Value = (string)t!;
            command.ExecuteNonQuery();
        }
    }
}
