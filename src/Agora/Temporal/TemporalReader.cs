using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Agora.Temporal;

/// An entity as its history knows it.
internal sealed record TemporalEntity(long Eid, string Id, JsonArray Types, JsonArray? Scope, string CreatedAt, string ModifiedAt, string? DeletedAt);

/// One aggregation period's result for one method: [value, start, end].
internal sealed record Aggregate(JsonNode? Value, double Start, double End);

/// Reads history: entities, instances by time, and aggregations computed by the database.
internal static class TemporalReader
{
    private const string EntityColumns = "eid, id, types, scope, created_at, modified_at, deleted_at";

    public static TemporalEntity? Find(SqliteConnection c, string id)
    {
        using var command = c.CreateCommand();
        command.CommandText = $"SELECT {EntityColumns} FROM temporal_entities WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Entity(reader) : null;
    }

    /// The entities of the history in id order, narrowed by ids and types when given (any of them).
    public static IEnumerable<TemporalEntity> Scan(SqliteConnection c, IReadOnlyCollection<string>? ids, IReadOnlyCollection<string>? typeIris)
    {
        using var command = c.CreateCommand();
        var sql = new StringBuilder($"SELECT {EntityColumns} FROM temporal_entities e WHERE 1");
        if (ids is not null)
        {
            sql.Append(" AND id IN (").AppendJoin(',', ids.Select((id, i) => Add(command, "$i" + i, id))).Append(')');
        }
        if (typeIris is not null)
        {
            sql.Append(" AND eid IN (SELECT eid FROM temporal_types WHERE type IN (")
                .AppendJoin(',', typeIris.Select((t, i) => Add(command, "$t" + i, t))).Append("))");
        }
        sql.Append(" ORDER BY id");
        command.CommandText = sql.ToString();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return Entity(reader);
        }
    }

    /// The attributes an entity's history holds instances of.
    public static List<string> Attributes(SqliteConnection c, long eid)
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT DISTINCT attr FROM attr_instances WHERE eid = $eid ORDER BY attr";
        command.Parameters.AddWithValue("$eid", eid);
        using var reader = command.ExecuteReader();
        var attrs = new List<string>();
        while (reader.Read())
        {
            attrs.Add(reader.GetString(0));
        }
        return attrs;
    }

    /// The instances of one attribute that the time query selects, oldest first; at most max (plus one, so
    /// that the caller knows there were more). With lastN, the latest N of them.
    public static List<JsonObject> Instances(SqliteConnection c, long eid, string attr, TimeQuery time, int max)
    {
        using var command = c.CreateCommand();
        var order = time.Rel is null ? $"coalesce({time.Column}, created)" : time.Column;
        var latest = time.LastN is not null;
        command.CommandText = $"""
            SELECT iid, doc FROM attr_instances WHERE eid = $eid AND attr = $attr{Range(command, time)}
            ORDER BY {order} {(latest ? "DESC" : "ASC")}, iid {(latest ? "DESC" : "ASC")} LIMIT $limit
            """;
        command.Parameters.AddWithValue("$eid", eid);
        command.Parameters.AddWithValue("$attr", attr);
        command.Parameters.AddWithValue("$limit", Math.Min(time.LastN ?? int.MaxValue, max + 1L));
        var instances = new List<JsonObject>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var instance = JsonNode.Parse(reader.GetString(1))!.AsObject();
                instance["instanceId"] = TemporalRows.InstancePrefix + reader.GetInt64(0).ToString(CultureInfo.InvariantCulture);
                instances.Add(instance);
            }
        }
        if (latest)
        {
            instances.Reverse();
        }
        return instances;
    }

    /// The aggregation of one attribute over the query's range, period by period (an empty period is left
    /// out). Each period is one indexed range scan: periods follow the calendar (P1M is a month), and
    /// numeric methods read nothing but the (eid, attr, observed, num) index.
    public static Dictionary<string, List<Aggregate>> Aggregate(SqliteConnection c, long eid, string attr, TimeQuery time, TemporalView view)
    {
        var results = view.AggrMethods.ToDictionary(m => m, _ => new List<Aggregate>(), StringComparer.Ordinal);
        var (first, last) = Bounds(c, eid, attr, time);
        if (first is null)
        {
            return results;
        }
        var start = time.Start ?? first.Value;
        // Without a period the whole range is one period; it ends at the query's end, or just after the
        // last instance, so that the last instance is inside it.
        var end = time.To ?? Math.BitIncrement(last!.Value);

        using var command = c.CreateCommand();
        // Text values (and thus a read of the table, not only the index) are needed by distinctCount, and by
        // min and max of an attribute without numbers.
        var texts = view.AggrMethods.Contains("distinctCount") || view.AggrMethods.Any(m => m is "min" or "max") && !HasNumbers(c, eid, attr);
        command.CommandText = $"""
            SELECT count(*), sum(num), min(num), max(num), sum(num * num), count(num){(texts ? ", count(DISTINCT val), min(val), max(val)" : "")}
            FROM attr_instances WHERE eid = $eid AND attr = $attr AND {time.Column} >= $from AND {time.Column} < $to
            """;
        command.Parameters.AddWithValue("$eid", eid);
        command.Parameters.AddWithValue("$attr", attr);
        var from = command.Parameters.Add("$from", SqliteType.Real);
        var to = command.Parameters.Add("$to", SqliteType.Real);
        var periodStart = start;
        while (periodStart < end)
        {
            var periodEnd = view.Period is { } p ? Math.Min(Next(p, periodStart), end) : end;
            if (view.Period is not null && time.To is null)
            {
                // The last period keeps its full length; its end is where it would end, not the last instance.
                periodEnd = Next(view.Period, periodStart);
            }
            from.Value = periodStart;
            to.Value = periodEnd;
            using var reader = command.ExecuteReader();
            reader.Read();
            var total = reader.GetInt64(0);
            if (total > 0)
            {
                foreach (var method in view.AggrMethods)
                {
                    results[method].Add(new Aggregate(Compute(method, reader, texts), periodStart, periodEnd));
                }
            }
            periodStart = periodEnd;
        }
        return results;
    }

    private static bool HasNumbers(SqliteConnection c, long eid, string attr)
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT 1 FROM attr_instances WHERE eid = $eid AND attr = $attr AND num IS NOT NULL LIMIT 1";
        command.Parameters.AddWithValue("$eid", eid);
        command.Parameters.AddWithValue("$attr", attr);
        return command.ExecuteScalar() is not null;
    }

    /// Whether the entity has any instance in the time query's window.
    public static bool HasInstances(SqliteConnection c, long eid, TimeQuery time)
    {
        using var command = c.CreateCommand();
        command.CommandText = $"SELECT 1 FROM attr_instances WHERE eid = $eid{Range(command, time)} LIMIT 1";
        command.Parameters.AddWithValue("$eid", eid);
        return command.ExecuteScalar() is not null;
    }

    /// The attribute type of the latest instance of an attribute.
    public static string LatestType(SqliteConnection c, long eid, string attr)
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT json_extract(doc, '$.type') FROM attr_instances WHERE eid = $eid AND attr = $attr AND deleted IS NULL ORDER BY iid DESC LIMIT 1";
        command.Parameters.AddWithValue("$eid", eid);
        command.Parameters.AddWithValue("$attr", attr);
        return command.ExecuteScalar() as string ?? "Property";
    }

    private static JsonNode? Compute(string method, SqliteDataReader r, bool texts)
    {
        var numbers = r.GetInt64(5);
        double Num(int i) => r.IsDBNull(i) ? 0 : r.GetDouble(i);
        return method switch
        {
            "totalCount" => r.GetInt64(0),
            "distinctCount" => r.GetInt64(6),
            "sum" => numbers > 0 ? Num(1) : null,
            "avg" => numbers > 0 ? Num(1) / numbers : null,
            "min" => numbers > 0 ? Num(2) : texts && !r.IsDBNull(7) ? r.GetString(7) : null,
            "max" => numbers > 0 ? Num(3) : texts && !r.IsDBNull(8) ? r.GetString(8) : null,
            "sumsq" => numbers > 0 ? Num(4) : null,
            "stddev" => numbers switch
            {
                0 => null,
                1 => 0.0,
                // The sample standard deviation, as SQL's stddev gives it.
                _ => Math.Sqrt(Math.Max(0, (Num(4) - Num(1) * Num(1) / numbers) / (numbers - 1))),
            },
            _ => null,
        };
    }

    private static double Next(IsoDuration period, double ms)
    {
        var at = DateTimeOffset.UnixEpoch.AddTicks((long)(ms * TimeSpan.TicksPerMillisecond));
        return (period.AddTo(at) - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerMillisecond;
    }

    private static (double? First, double? Last) Bounds(SqliteConnection c, long eid, string attr, TimeQuery time)
    {
        using var command = c.CreateCommand();
        command.CommandText = $"SELECT min({time.Column}), max({time.Column}) FROM attr_instances WHERE eid = $eid AND attr = $attr{Range(command, time)}";
        command.Parameters.AddWithValue("$eid", eid);
        command.Parameters.AddWithValue("$attr", attr);
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.IsDBNull(0) ? (null, null) : (reader.GetDouble(0), reader.GetDouble(1));
    }

    private static string Range(SqliteCommand command, TimeQuery time)
    {
        var sql = new StringBuilder();
        if (time.From is { } from)
        {
            sql.Append($" AND {time.Column} >= $from");
            command.Parameters.AddWithValue("$from", from);
        }
        if (time.To is { } to)
        {
            sql.Append($" AND {time.Column} < $to");
            command.Parameters.AddWithValue("$to", to);
        }
        if (time.Rel is null && time.Property != "observedAt")
        {
            sql.Append($" AND {time.Column} IS NOT NULL");
        }
        return sql.ToString();
    }

    private static string Add(SqliteCommand command, string name, string value)
    {
        command.Parameters.AddWithValue(name, value);
        return name;
    }

    private static TemporalEntity Entity(SqliteDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        JsonNode.Parse(r.GetString(2))!.AsArray(),
        r.IsDBNull(3) ? null : JsonNode.Parse(r.GetString(3)) as JsonArray,
        r.GetString(4),
        r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6));

    public static string Timestamp(double ms) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond)).UtcDateTime
            .ToString(ms % 1000 == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
