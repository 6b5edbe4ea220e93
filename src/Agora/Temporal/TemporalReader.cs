using Agora.Storage;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Agora.Temporal;

/// An entity as its history knows it.
internal sealed record TemporalEntity(long Eid, string Id, JsonArray Types, JsonArray? Scope, string CreatedAt, string ModifiedAt, string? DeletedAt);

/// One aggregation period's result for one method: [value, start, end].
internal sealed record Aggregate(JsonNode? Value, double Start, double End);

/// Reads history: entities, instances by time, and aggregations computed by the database.
internal static class TemporalReader
{
    private const string EntityColumns = "eid, id, types, scope, created_at, modified_at, deleted_at";

    public static TemporalEntity? Find(DbConnection c, string id)
    {
        using var command = Statements.For(c, $"SELECT {EntityColumns} FROM temporal_entities WHERE id = @id");
        command.Parameters.AddWithValue("@id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Entity(reader) : null;
    }

    /// The types the history knows an entity by (none when it has no history).
    public static List<string> TypesOf(DbConnection c, string id)
    {
        using var command = Statements.For(c, "SELECT types FROM temporal_entities WHERE id = @id");
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() is string types ? [.. JsonNode.Parse(types)!.AsArray().Select(t => (string)t!)] : [];
    }

    /// The entities of the history in id order, narrowed by ids and types when given (any of them). SQLite
    /// streams them while the caller reads each one's instances on the same connection; PostgreSQL runs one
    /// command at a time per connection, so there they are read first.
    public static IEnumerable<TemporalEntity> Scan(DbConnection c, IReadOnlyCollection<string>? ids, IReadOnlyCollection<string>? typeIris) =>
        Db.IsPostgres(c) ? [.. Rows(c, ids, typeIris)] : Rows(c, ids, typeIris);

    private static IEnumerable<TemporalEntity> Rows(DbConnection c, IReadOnlyCollection<string>? ids, IReadOnlyCollection<string>? typeIris)
    {
        using var command = c.CreateCommand();
        var sql = new StringBuilder($"SELECT {EntityColumns} FROM temporal_entities e WHERE 1=1");
        if (ids is not null)
        {
            sql.Append(" AND id IN (").AppendJoin(',', ids.Select((id, i) => Add(command, "@i" + i, id))).Append(')');
        }
        if (typeIris is not null)
        {
            sql.Append(" AND eid IN (SELECT eid FROM temporal_types WHERE type IN (")
                .AppendJoin(',', typeIris.Select((t, i) => Add(command, "@t" + i, t))).Append("))");
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
    public static List<string> Attributes(DbConnection c, long eid)
    {
        using var command = c.CreateCommand();
        // One index seek per attribute, however many instances each has (a DISTINCT would read them all).
        command.CommandText = """
            WITH RECURSIVE a(attr) AS (
                SELECT min(attr) FROM attr_instances WHERE eid = @eid
                UNION ALL
                SELECT (SELECT min(attr) FROM attr_instances WHERE eid = @eid AND attr > a.attr) FROM a WHERE a.attr IS NOT NULL)
            SELECT attr FROM a WHERE attr IS NOT NULL
            """;
        command.Parameters.AddWithValue("@eid", eid);
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
    public static List<JsonObject> Instances(DbConnection c, long eid, string attr, TimeQuery time, int max)
    {
        using var command = c.CreateCommand();
        var latest = time.LastN is not null;
        var direction = latest ? "DESC" : "ASC";
        // SQLite's order of NULLs, spelled out so that PostgreSQL (which puts them the other way) agrees.
        var nulls = latest ? "NULLS LAST" : "NULLS FIRST";
        // In the order of the time property's index; without a time query, instances without observedAt
        // (recorded from writes that gave none) come first, in the order they were recorded.
        command.CommandText = $"""
            SELECT iid, doc FROM attr_instances WHERE eid = @eid AND attr = @attr{Range(command, time)}
            ORDER BY {time.Column} {direction} {nulls}, created {direction}, iid {direction} LIMIT @limit
            """;
        command.Parameters.AddWithValue("@eid", eid);
        command.Parameters.AddWithValue("@attr", attr);
        command.Parameters.AddWithValue("@limit", Math.Min(time.LastN ?? int.MaxValue, max + 1L));
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
    /// out). Periods follow the calendar (P1M is a month). Numeric methods over observedAt add up the hourly
    /// roll-up for the whole hours of a period and read instances only for its ragged ends; anything else
    /// (distinctCount, texts, other time properties) is one indexed range scan of the instances per period.
    public static Dictionary<string, List<Aggregate>> Aggregate(DbConnection c, long eid, string attr, TimeQuery time, TemporalView view)
    {
        var results = view.AggrMethods.ToDictionary(m => m, _ => new List<Aggregate>(), StringComparer.Ordinal);
        var (first, last) = Bounds(c, eid, attr, time);
        if (first is null)
        {
            return results;
        }
        var start = time.Start ?? first.Value;
        // Without a period the whole range is one period; it ends at the query's end, or at the whole second
        // after the last instance, so that the last instance is inside it.
        var end = time.To ?? (Math.Floor(last!.Value / 1000) + 1) * 1000;

        // Text values (and thus a read of the table, not only the index) are needed by distinctCount, and by
        // min and max of an attribute without numbers.
        var texts = view.AggrMethods.Contains("distinctCount") || view.AggrMethods.Any(m => m is "min" or "max") && !HasNumbers(c, eid, attr);
        var hours = time.Column == "observed" && !texts ? Hours(c, eid, attr, start, end) : null;

        // Each period is its whole hours from the roll-up plus scans of its ragged ends, or one scan when the
        // roll-up cannot serve it. The scans of all periods are then read at once.
        var periods = new List<(double Start, double End, Sums Hours, int FirstScan, int LastScan)>();
        var ranges = new List<(double From, double To)>();
        void Between(double a, double b)
        {
            if (a < b)
            {
                ranges.Add((a, b));
            }
        }
        var periodStart = start;
        var next = 0;
        while (periodStart < end)
        {
            // The last period keeps its full length when the query gives no end.
            var periodEnd = view.Period is { } p ? (time.To is null ? Next(p, periodStart) : Math.Min(Next(p, periodStart), end)) : end;
            var firstHour = (long)Math.Ceiling(periodStart / TemporalRows.HourMillis);
            var endHour = TemporalRows.Hour(periodEnd);
            var firstScan = ranges.Count;
            Sums fromHours = default;
            if (hours is not null && firstHour < endHour)
            {
                Between(periodStart, firstHour * TemporalRows.HourMillis);
                Between(endHour * TemporalRows.HourMillis, periodEnd);
                while (next < hours.Count && hours[next].Hour < firstHour)
                {
                    next++;
                }
                for (; next < hours.Count && hours[next].Hour < endHour; next++)
                {
                    fromHours += hours[next].Sums;
                }
            }
            else
            {
                Between(periodStart, periodEnd);
            }
            periods.Add((periodStart, periodEnd, fromHours, firstScan, ranges.Count));
            periodStart = periodEnd;
        }

        var scanned = Scan(c, eid, attr, time.Column, texts, ranges);
        foreach (var period in periods)
        {
            var sums = period.Hours;
            for (var i = period.FirstScan; i < period.LastScan; i++)
            {
                sums += scanned[i];
            }
            if (sums.Count > 0)
            {
                foreach (var method in view.AggrMethods)
                {
                    results[method].Add(new Aggregate(sums.Compute(method), period.Start, period.End));
                }
            }
        }
        return results;
    }

    /// The sums of the instances in each range [From, To) of the time column. SQLite, in process, runs one
    /// prepared statement per range; PostgreSQL gets every range in one statement (a lateral join over the
    /// ranges as arrays), so that an hourly aggregation over a month is one round trip and not 1,440.
    private static Sums[] Scan(DbConnection c, long eid, string attr, string column, bool texts, List<(double From, double To)> ranges)
    {
        var result = new Sums[ranges.Count];
        if (ranges.Count == 0)
        {
            return result;
        }
        var aggregates = $"count(*), count(num), sum(num), sum(num * num), min(num), max(num){(texts ? ", count(DISTINCT val), min(val), max(val)" : "")}";
        using var command = c.CreateCommand();
        command.Parameters.AddWithValue("@eid", eid);
        command.Parameters.AddWithValue("@attr", attr);
        if (Db.IsPostgres(c))
        {
            command.CommandText = $"""
                SELECT r.i, s.* FROM unnest(@froms, @tos) WITH ORDINALITY AS r(a, b, i)
                CROSS JOIN LATERAL (SELECT {aggregates} FROM attr_instances
                                    WHERE eid = @eid AND attr = @attr AND {column} >= r.a AND {column} < r.b) AS s
                """;
            command.Parameters.AddWithValue("@froms", ranges.Select(r => r.From).ToArray());
            command.Parameters.AddWithValue("@tos", ranges.Select(r => r.To).ToArray());
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                result[reader.GetInt64(0) - 1] = Read(reader, 1, texts);
            }
            return result;
        }
        command.CommandText = $"SELECT {aggregates} FROM attr_instances WHERE eid = @eid AND attr = @attr AND {column} >= @from AND {column} < @to";
        var from = command.Parameters.Add("@from", DbType.Double);
        var to = command.Parameters.Add("@to", DbType.Double);
        for (var i = 0; i < ranges.Count; i++)
        {
            (from.Value, to.Value) = ranges[i];
            using var reader = command.ExecuteReader();
            reader.Read();
            result[i] = Read(reader, 0, texts);
        }
        return result;
    }

    private static Sums Read(DbDataReader r, int at, bool texts) => new(
        r.GetInt64(at), r.GetInt64(at + 1), r.IsDBNull(at + 2) ? 0 : r.GetDouble(at + 2), r.IsDBNull(at + 3) ? 0 : r.GetDouble(at + 3),
        r.IsDBNull(at + 4) ? null : r.GetDouble(at + 4), r.IsDBNull(at + 5) ? null : r.GetDouble(at + 5),
        texts ? r.GetInt64(at + 6) : 0, texts && !r.IsDBNull(at + 7) ? r.GetString(at + 7) : null, texts && !r.IsDBNull(at + 8) ? r.GetString(at + 8) : null);

    private static List<(long Hour, Sums Sums)> Hours(DbConnection c, long eid, string attr, double start, double end)
    {
        using var command = Statements.For(c, "SELECT hour, cnt, n, total, sumsq, lo, hi FROM attr_hours WHERE eid = @eid AND attr = @attr AND hour BETWEEN @from AND @to ORDER BY hour");
        command.Parameters.AddWithValue("@eid", eid);
        command.Parameters.AddWithValue("@attr", attr);
        command.Parameters.AddWithValue("@from", TemporalRows.Hour(start));
        command.Parameters.AddWithValue("@to", TemporalRows.Hour(end));
        using var reader = command.ExecuteReader();
        var hours = new List<(long, Sums)>();
        while (reader.Read())
        {
            hours.Add((reader.GetInt64(0), new Sums(reader.GetInt64(1), reader.GetInt64(2), reader.GetDouble(3), reader.GetDouble(4),
                reader.IsDBNull(5) ? null : reader.GetDouble(5), reader.IsDBNull(6) ? null : reader.GetDouble(6), 0, null, null)));
        }
        return hours;
    }

    /// What a period adds up to: instances, numbers among them, their sum, sum of squares, least and greatest,
    /// and (from a scan of the instances only) distinct values and least and greatest text.
    private readonly record struct Sums(long Count, long Numbers, double Total, double SumSq, double? Lo, double? Hi, long Distinct, string? LoText, string? HiText)
    {
        public static Sums operator +(Sums a, Sums b) => new(
            a.Count + b.Count, a.Numbers + b.Numbers, a.Total + b.Total, a.SumSq + b.SumSq,
            Least(a.Lo, b.Lo), a.Hi is null ? b.Hi : b.Hi is null ? a.Hi : Math.Max(a.Hi.Value, b.Hi.Value),
            a.Distinct + b.Distinct, a.LoText ?? b.LoText, a.HiText ?? b.HiText);

        private static double? Least(double? x, double? y) => x is null ? y : y is null ? x : Math.Min(x.Value, y.Value);

        public JsonNode? Compute(string method) => method switch
        {
            "totalCount" => Count,
            "distinctCount" => Distinct,
            "sum" => Numbers > 0 ? Total : null,
            "avg" => Numbers > 0 ? Total / Numbers : null,
            "min" => Numbers > 0 ? Lo : LoText,
            "max" => Numbers > 0 ? Hi : HiText,
            "sumsq" => Numbers > 0 ? SumSq : null,
            "stddev" => Numbers switch
            {
                0 => null,
                1 => 0.0,
                // The sample standard deviation, as SQL's stddev gives it.
                _ => Math.Sqrt(Math.Max(0, (SumSq - Total * Total / Numbers) / (Numbers - 1))),
            },
            _ => null,
        };
    }

    private static bool HasNumbers(DbConnection c, long eid, string attr)
    {
        using var command = Statements.For(c, "SELECT 1 FROM attr_instances WHERE eid = @eid AND attr = @attr AND num IS NOT NULL LIMIT 1");
        command.Parameters.AddWithValue("@eid", eid);
        command.Parameters.AddWithValue("@attr", attr);
        return command.ExecuteScalar() is not null;
    }

    /// Whether the entity has any instance in the time query's window.
    public static bool HasInstances(DbConnection c, long eid, TimeQuery time)
    {
        using var command = c.CreateCommand();
        command.CommandText = $"SELECT 1 FROM attr_instances WHERE eid = @eid{Range(command, time)} LIMIT 1";
        command.Parameters.AddWithValue("@eid", eid);
        return command.ExecuteScalar() is not null;
    }

    /// The attribute type of the latest instance of an attribute.
    public static string LatestType(DbConnection c, long eid, string attr)
    {
        // Walks the (eid, attr, observed) index from its newest end: no sort of the attribute's instances. The
        // instances without observedAt come after all others (as SQLite orders NULLs in DESC), asked for
        // separately because PostgreSQL's index, read backwards, would give them first.
        var type = Db.IsPostgres(c) ? "CAST(doc AS jsonb) ->> 'type'" : "json_extract(doc, '$.type')";
        string? Latest(string observed, string order)
        {
            using var command = Statements.For(c, $"SELECT {type} FROM attr_instances WHERE eid = @eid AND attr = @attr AND deleted IS NULL AND observed {observed}{order} LIMIT 1");
            command.Parameters.AddWithValue("@eid", eid);
            command.Parameters.AddWithValue("@attr", attr);
            return command.ExecuteScalar() as string;
        }
        return Latest("IS NOT NULL", " ORDER BY observed DESC") ?? Latest("IS NULL", "") ?? "Property";
    }

    private static double Next(IsoDuration period, double ms)
    {
        var at = DateTimeOffset.UnixEpoch.AddTicks((long)(ms * TimeSpan.TicksPerMillisecond));
        return (period.AddTo(at) - DateTimeOffset.UnixEpoch).Ticks / (double)TimeSpan.TicksPerMillisecond;
    }

    // The first and last instant of the window that holds an instance: two index seeks (one min() and one
    // max() in one statement would read the whole range).
    private static (double? First, double? Last) Bounds(DbConnection c, long eid, string attr, TimeQuery time)
    {
        double? Edge(string direction)
        {
            using var command = c.CreateCommand();
            command.CommandText = $"""
                SELECT {time.Column} FROM attr_instances WHERE eid = @eid AND attr = @attr{Range(command, time)} AND {time.Column} IS NOT NULL
                ORDER BY {time.Column} {direction} LIMIT 1
                """;
            command.Parameters.AddWithValue("@eid", eid);
            command.Parameters.AddWithValue("@attr", attr);
            return command.ExecuteScalar() is double at ? at : null;
        }
        return Edge("ASC") is { } first ? (first, Edge("DESC")) : (null, null);
    }

    private static string Range(DbCommand command, TimeQuery time)
    {
        var sql = new StringBuilder();
        if (time.From is { } from)
        {
            sql.Append($" AND {time.Column} >= @from");
            command.Parameters.AddWithValue("@from", from);
        }
        if (time.To is { } to)
        {
            sql.Append($" AND {time.Column} < @to");
            command.Parameters.AddWithValue("@to", to);
        }
        if (time.Rel is null && time.Property != "observedAt")
        {
            sql.Append($" AND {time.Column} IS NOT NULL");
        }
        return sql.ToString();
    }

    private static string Add(DbCommand command, string name, string value)
    {
        command.Parameters.AddWithValue(name, value);
        return name;
    }

    private static TemporalEntity Entity(DbDataReader r) => new(
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
