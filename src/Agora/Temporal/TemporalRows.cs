using Agora.Storage;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Entities;

namespace Agora.Temporal;

/// The SQL of the history tables (schema version 5): temporal entities and their attribute instances.
internal static class TemporalRows
{
    public const string InstancePrefix = "urn:ngsi-ld:instance:";

    /// The history row of an entity written through the temporal API, created or brought up to date: the
    /// types given are added to those it has, a scope given replaces its scope, and it exists again if it
    /// was deleted.
    public static long Merge(DbConnection connection, string id, JsonArray types, JsonNode? scope, string at)
    {
        using var command = Statements.For(connection, """
            INSERT INTO temporal_entities (id, types, scope, created_at, modified_at) VALUES (@id, @types, @scope, @at, @at)
            ON CONFLICT (id) DO UPDATE SET scope = coalesce(excluded.scope, temporal_entities.scope), modified_at = excluded.modified_at, deleted_at = NULL
            RETURNING eid, types
            """);
        command.Parameters.AddWithValue("@id", id);
        command.Parameters.AddWithValue("@types", types.ToJsonString());
        command.Parameters.AddWithValue("@scope", (object?)scope?.ToJsonString() ?? DBNull.Value);
        command.Parameters.AddWithValue("@at", at);
        long eid;
        JsonArray stored;
        using (var reader = command.ExecuteReader())
        {
            reader.Read();
            eid = reader.GetInt64(0);
            stored = JsonNode.Parse(reader.GetString(1))!.AsArray();
        }
        var added = types.Select(t => (string)t!).Where(t => !stored.Any(s => (string)s! == t)).ToList();
        if (added.Count > 0)
        {
            added.ForEach(t => stored.Add(t));
            using var update = Statements.For(connection, "UPDATE temporal_entities SET types = @types WHERE eid = @eid");
            update.Parameters.AddWithValue("@types", stored.ToJsonString());
            update.Parameters.AddWithValue("@eid", eid);
            update.ExecuteNonQuery();
        }
        WriteTypes(connection, eid, stored);
        return eid;
    }

    private static void WriteTypes(DbConnection connection, long eid, JsonArray types)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM temporal_types WHERE eid = @eid";
        command.Parameters.AddWithValue("@eid", eid);
        command.ExecuteNonQuery();
        command.CommandText = "INSERT INTO temporal_types (type, eid) VALUES (@type, @eid) ON CONFLICT DO NOTHING";
        var type = command.Parameters.Add("@type", DbType.String);
        foreach (var t in types)
        {
            type.Value = (string)t!;
            command.ExecuteNonQuery();
        }
    }

    public static long? EntityId(DbConnection connection, string id)
    {
        using var command = Statements.For(connection, "SELECT eid FROM temporal_entities WHERE id = @id");
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() is long eid ? eid : null;
    }

    /// Removes an entity's whole history.
    public static bool Delete(DbConnection connection, string id)
    {
        using var command = Statements.For(connection, """
            DELETE FROM attr_instances WHERE eid = (SELECT eid FROM temporal_entities WHERE id = @id);
            DELETE FROM attr_hours WHERE eid = (SELECT eid FROM temporal_entities WHERE id = @id);
            DELETE FROM temporal_entities WHERE id = @id;
            """);
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteNonQuery() > 0;
    }

    /// Deletes the entity's instances of these attributes, datasetIds and observedAt instants; returns the
    /// hours (by attribute) that lost one, whose roll-up must be rebuilt. One statement per instant on SQLite,
    /// one for all of them on PostgreSQL.
    public static HashSet<(string Attr, long Hour)> DeleteAtInstants(DbConnection c, long eid, List<(string Attr, string Dataset, double Observed)> instants)
    {
        var replaced = new HashSet<(string, long)>();
        if (instants.Count == 0)
        {
            return replaced;
        }
        using var command = c.CreateCommand();
        command.Parameters.AddWithValue("@eid", eid);
        if (Db.IsPostgres(c))
        {
            command.CommandText = """
                DELETE FROM attr_instances i USING unnest(@attrs, @datasets, @observed) AS x(attr, dataset, observed)
                WHERE i.eid = @eid AND i.attr = x.attr AND i.dataset = x.dataset AND i.observed = x.observed
                RETURNING i.attr, i.observed
                """;
            command.Parameters.AddWithValue("@attrs", instants.Select(x => x.Attr).ToArray());
            command.Parameters.AddWithValue("@datasets", instants.Select(x => x.Dataset).ToArray());
            command.Parameters.AddWithValue("@observed", instants.Select(x => x.Observed).ToArray());
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                replaced.Add((reader.GetString(0), Hour(reader.GetDouble(1))));
            }
            return replaced;
        }
        command.CommandText = "DELETE FROM attr_instances WHERE eid = @eid AND attr = @attr AND dataset = @dataset AND observed = @observed";
        var attr = command.Parameters.Add("@attr", DbType.String);
        var dataset = command.Parameters.Add("@dataset", DbType.String);
        var observed = command.Parameters.Add("@observed", DbType.Double);
        foreach (var x in instants)
        {
            (attr.Value, dataset.Value, observed.Value) = (x.Attr, x.Dataset, x.Observed);
            if (command.ExecuteNonQuery() > 0)
            {
                replaced.Add((x.Attr, Hour(x.Observed)));
            }
        }
        return replaced;
    }

    /// Appends instances; each is an expanded attribute instance whose createdAt/modifiedAt are set. SQLite
    /// writes each at once with two prepared statements; PostgreSQL collects them and writes them all at
    /// <see cref="Flush"/> in one round trip (the instances as arrays, and the hourly roll-up grouped by
    /// hour), so that the caller must not read them back before it flushes.
    public sealed class Appender : IDisposable
    {
        private readonly List<Row>? _rows;
        private readonly DbConnection _connection;

        private readonly record struct Row(long Eid, string Attr, string Dataset, double? Observed, double Created, double Modified,
            double? Deleted, double? Num, string? Val, string Doc);

        public Appender(DbConnection connection)
        {
            _connection = connection;
            _rows = Db.IsPostgres(connection) ? [] : null;
        }

        public void Add(long eid, string attr, JsonObject instance)
        {
            var (num, val) = Value(instance);
            var createdAt = instance["createdAt"];
            var created = Millis(createdAt) ?? 0;
            // Most instances were created when they were last modified: the same text is parsed once.
            var modifiedAt = instance["modifiedAt"];
            var modified = JsonNode.DeepEquals(modifiedAt, createdAt) ? created : Millis(modifiedAt) ?? 0;
            var row = new Row(eid, attr, (string?)instance["datasetId"] ?? "", Millis(instance["observedAt"]), created,
                modified, Millis(instance["deletedAt"]), num, val, instance.ToJsonString());
            if (_rows is not null)
            {
                _rows.Add(row);
                return;
            }
            Statements.Row(_connection, """
                INSERT INTO attr_instances (eid, attr, dataset, observed, created, modified, deleted, num, val, doc)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """)
                .Bind(1, row.Eid).Bind(2, row.Attr).Bind(3, row.Dataset).Bind(4, row.Observed).Bind(5, row.Created)
                .Bind(6, row.Modified).Bind(7, row.Deleted).Bind(8, row.Num).Bind(9, row.Val).Bind(10, row.Doc).Step();
            if (row.Observed is { } observed && row.Deleted is null)
            {
                Statements.Row(_connection, $"""
                    INSERT INTO attr_hours (eid, attr, hour, cnt, n, total, sumsq, lo, hi)
                    VALUES (?1, ?2, ?3, 1, CASE WHEN ?4 IS NULL THEN 0 ELSE 1 END, coalesce(?4, 0), coalesce(?4 * ?4, 0), ?4, ?4)
                    ON CONFLICT (eid, attr, hour) DO UPDATE SET {HourMerge}
                    """)
                    .Bind(1, row.Eid).Bind(2, row.Attr).Bind(3, Hour(observed)).Bind(4, row.Num).Step();
            }
        }

        /// Writes what PostgreSQL collected; nothing to do on SQLite.
        public void Flush()
        {
            if (_rows is not { Count: > 0 })
            {
                return;
            }
            var hourly = _rows.Where(r => r.Observed is not null && r.Deleted is null).ToList();
            using var command = _connection.CreateCommand();
            // An upsert may not touch one row twice: the new instances are summed per hour first.
            command.CommandText = $"""
                INSERT INTO attr_instances (eid, attr, dataset, observed, created, modified, deleted, num, val, doc)
                SELECT * FROM unnest(@eids, @attrs, @datasets, @observed, @created, @modified, @deleted, @nums, @vals, @docs);
                INSERT INTO attr_hours (eid, attr, hour, cnt, n, total, sumsq, lo, hi)
                SELECT eid, attr, hour, count(*), count(num), coalesce(sum(num), 0), coalesce(sum(num * num), 0), min(num), max(num)
                FROM unnest(@heids, @hattrs, @hhours, @hnums) AS h(eid, attr, hour, num) GROUP BY eid, attr, hour
                ON CONFLICT (eid, attr, hour) DO UPDATE SET {HourMerge};
                """;
            var p = command.Parameters;
            p.AddWithValue("@eids", _rows.Select(r => r.Eid).ToArray());
            p.AddWithValue("@attrs", _rows.Select(r => r.Attr).ToArray());
            p.AddWithValue("@datasets", _rows.Select(r => r.Dataset).ToArray());
            p.AddWithValue("@observed", _rows.Select(r => r.Observed).ToArray());
            p.AddWithValue("@created", _rows.Select(r => r.Created).ToArray());
            p.AddWithValue("@modified", _rows.Select(r => r.Modified).ToArray());
            p.AddWithValue("@deleted", _rows.Select(r => r.Deleted).ToArray());
            p.AddWithValue("@nums", _rows.Select(r => r.Num).ToArray());
            p.AddWithValue("@vals", _rows.Select(r => r.Val).ToArray());
            p.AddWithValue("@docs", _rows.Select(r => r.Doc).ToArray());
            p.AddWithValue("@heids", hourly.Select(r => r.Eid).ToArray());
            p.AddWithValue("@hattrs", hourly.Select(r => r.Attr).ToArray());
            p.AddWithValue("@hhours", hourly.Select(r => Hour(r.Observed!.Value)).ToArray());
            p.AddWithValue("@hnums", hourly.Select(r => r.Num).ToArray());
            command.ExecuteNonQuery();
            _rows.Clear();
        }

        public void Dispose()
        {
            // The statements belong to the connection (Statements), not to one appender.
        }
    }

    public const double HourMillis = 3_600_000;

    private const string HourMerge = """
        cnt = attr_hours.cnt + excluded.cnt, n = attr_hours.n + excluded.n, total = attr_hours.total + excluded.total,
        sumsq = attr_hours.sumsq + excluded.sumsq,
        lo = CASE WHEN excluded.lo IS NULL THEN attr_hours.lo WHEN attr_hours.lo IS NULL OR excluded.lo < attr_hours.lo THEN excluded.lo ELSE attr_hours.lo END,
        hi = CASE WHEN excluded.hi IS NULL THEN attr_hours.hi WHEN attr_hours.hi IS NULL OR excluded.hi > attr_hours.hi THEN excluded.hi ELSE attr_hours.hi END
        """;

    /// The hour (since the epoch) an instant in epoch milliseconds falls in.
    public static long Hour(double millis) => (long)Math.Floor(millis / HourMillis);

    /// Recomputes the hourly roll-up from the instances, for one entity (and attribute, and hours from..to
    /// inclusive, when given): after instances were changed or removed, which an addition cannot undo.
    public static void RebuildHours(DbConnection connection, long eid, string? attr = null, long? from = null, long? to = null)
    {
        using var command = connection.CreateCommand();
        var scope = (attr is null ? "" : " AND attr = @attr") + (from is null ? "" : " AND hour BETWEEN @from AND @to");
        var instances = (attr is null ? "" : " AND attr = @attr") + (from is null ? "" : " AND observed >= @fromMs AND observed < @toMs");
        command.CommandText = $"""
            DELETE FROM attr_hours WHERE eid = @eid{scope};
            INSERT INTO attr_hours (eid, attr, hour, cnt, n, total, sumsq, lo, hi)
            SELECT eid, attr, CAST(floor(observed / {HourMillis}) AS INTEGER) AS h, count(*), count(num), coalesce(sum(num), 0),
                coalesce(sum(num * num), 0), min(num), max(num)
            FROM attr_instances WHERE eid = @eid{instances} AND observed IS NOT NULL AND deleted IS NULL
            GROUP BY eid, attr, h;
            """;
        command.Parameters.AddWithValue("@eid", eid);
        command.Parameters.AddWithValue("@attr", (object?)attr ?? DBNull.Value);
        command.Parameters.AddWithValue("@from", (object?)from ?? DBNull.Value);
        command.Parameters.AddWithValue("@to", (object?)to ?? DBNull.Value);
        command.Parameters.AddWithValue("@fromMs", from is { } f ? f * HourMillis : DBNull.Value);
        command.Parameters.AddWithValue("@toMs", to is { } t ? (t + 1) * HourMillis : DBNull.Value);
        command.ExecuteNonQuery();
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
