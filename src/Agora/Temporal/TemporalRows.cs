using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Entities;
using Microsoft.Data.Sqlite;

namespace Agora.Temporal;

/// The SQL of the history tables (schema version 5): temporal entities and their attribute instances.
internal static class TemporalRows
{
    public const string InstancePrefix = "urn:ngsi-ld:instance:";

    /// The history row of an entity, created or brought up to date (types, scope, modifiedAt); deleted_at
    /// is cleared, since an entity written again exists again.
    public static long Upsert(SqliteConnection connection, string id, JsonArray types, JsonNode? scope, string createdAt, string modifiedAt, bool mergeTypes = false)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO temporal_entities (id, types, scope, created_at, modified_at) VALUES ($id, $types, $scope, $c, $m)
            ON CONFLICT (id) DO UPDATE SET
                types = CASE WHEN $merge THEN types ELSE excluded.types END,
                scope = coalesce(excluded.scope, CASE WHEN $merge THEN scope END),
                modified_at = excluded.modified_at, deleted_at = NULL
            RETURNING eid, types
            """;
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$types", types.ToJsonString());
        command.Parameters.AddWithValue("$scope", (object?)scope?.ToJsonString() ?? DBNull.Value);
        command.Parameters.AddWithValue("$c", createdAt);
        command.Parameters.AddWithValue("$m", modifiedAt);
        command.Parameters.AddWithValue("$merge", mergeTypes);
        long eid;
        JsonArray stored;
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            eid = reader.GetInt64(0);
            stored = JsonNode.Parse(reader.GetString(1))!.AsArray();
        }
        if (mergeTypes)
        {
            var added = types.Select(t => (string)t!).Where(t => !stored.Any(s => (string)s! == t)).ToList();
            if (added.Count > 0)
            {
                added.ForEach(t => stored.Add(t));
                using var update = connection.CreateCommand();
                update.CommandText = "UPDATE temporal_entities SET types = $types WHERE eid = $eid";
                update.Parameters.AddWithValue("$types", stored.ToJsonString());
                update.Parameters.AddWithValue("$eid", eid);
                update.ExecuteNonQuery();
            }
        }
        WriteTypes(connection, eid, mergeTypes ? stored : types);
        return eid;
    }

    private static void WriteTypes(SqliteConnection connection, long eid, JsonArray types)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM temporal_types WHERE eid = $eid";
        command.Parameters.AddWithValue("$eid", eid);
        command.ExecuteNonQuery();
        command.CommandText = "INSERT OR IGNORE INTO temporal_types (type, eid) VALUES ($type, $eid)";
        var type = command.Parameters.Add("$type", SqliteType.Text);
        foreach (var t in types)
        {
            type.Value = (string)t!;
            command.ExecuteNonQuery();
        }
    }

    public static long? EntityId(SqliteConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT eid FROM temporal_entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() is long eid ? eid : null;
    }

    public static void MarkDeleted(SqliteConnection connection, string id, string at)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE temporal_entities SET deleted_at = $at, modified_at = $at WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$at", at);
        command.ExecuteNonQuery();
    }

    /// Removes an entity's whole history.
    public static bool Delete(SqliteConnection connection, string id)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM attr_instances WHERE eid = (SELECT eid FROM temporal_entities WHERE id = $id);
            DELETE FROM temporal_entities WHERE id = $id;
            """;
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery() > 0;
    }

    /// Appends instances; each is an expanded attribute instance whose createdAt/modifiedAt are set.
    public sealed class Appender : IDisposable
    {
        private readonly SqliteCommand _command;
        private readonly SqliteParameter _eid, _attr, _dataset, _observed, _created, _modified, _deleted, _num, _val, _doc;

        public Appender(SqliteConnection connection)
        {
            _command = connection.CreateCommand();
            _command.CommandText = """
                INSERT INTO attr_instances (eid, attr, dataset, observed, created, modified, deleted, num, val, doc)
                VALUES ($eid, $attr, $dataset, $observed, $created, $modified, $deleted, $num, $val, $doc)
                """;
            _eid = _command.Parameters.Add("$eid", SqliteType.Integer);
            _attr = _command.Parameters.Add("$attr", SqliteType.Text);
            _dataset = _command.Parameters.Add("$dataset", SqliteType.Text);
            _observed = _command.Parameters.Add("$observed", SqliteType.Real);
            _created = _command.Parameters.Add("$created", SqliteType.Real);
            _modified = _command.Parameters.Add("$modified", SqliteType.Real);
            _deleted = _command.Parameters.Add("$deleted", SqliteType.Real);
            _num = _command.Parameters.Add("$num", SqliteType.Real);
            _val = _command.Parameters.Add("$val", SqliteType.Text);
            _doc = _command.Parameters.Add("$doc", SqliteType.Text);
        }

        public void Add(long eid, string attr, JsonObject instance)
        {
            var (num, val) = Value(instance);
            _eid.Value = eid;
            _attr.Value = attr;
            _dataset.Value = (string?)instance["datasetId"] ?? "";
            _observed.Value = Millis(instance["observedAt"]) is { } o ? o : DBNull.Value;
            _created.Value = Millis(instance["createdAt"]) ?? 0;
            _modified.Value = Millis(instance["modifiedAt"]) ?? 0;
            _deleted.Value = Millis(instance["deletedAt"]) is { } d ? d : DBNull.Value;
            _num.Value = num is { } n ? n : DBNull.Value;
            _val.Value = (object?)val ?? DBNull.Value;
            _doc.Value = instance.ToJsonString();
            _command.ExecuteNonQuery();
        }

        public void Dispose() => _command.Dispose();
    }

    /// What aggregation reads of an instance's value: a number (booleans as 1 and 0, so that sum counts
    /// trues and avg is their share), and the value's JSON text, by which distinctCount tells values apart
    /// and min/max order texts and instants.
    public static (double? Num, string? Val) Value(JsonObject instance)
    {
        var node = instance[Members.ValueMember((string?)instance["type"] ?? "Property")];
        return node switch
        {
            null => (null, null),
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => (v.GetValue<double>(), v.ToJsonString()),
            JsonValue v when v.GetValueKind() == JsonValueKind.True => (1, "true"),
            JsonValue v when v.GetValueKind() == JsonValueKind.False => (0, "false"),
            JsonValue v when v.TryGetValue<string>(out var s) => (null, s),
            _ => (null, node.ToJsonString()),
        };
    }

    /// An NGSI-LD DateTime as epoch milliseconds (fractions kept), or null when absent or not a DateTime.
    public static double? Millis(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? Millis(s) : null;

    public static double? Millis(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? (at - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerMillisecond
            : null;
}
