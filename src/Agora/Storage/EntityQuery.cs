using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Query;
using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// A query over a tenant's entities, compiled to SQL over the indexes. SQL narrows the candidates (by id,
/// type, attribute values, geometry bounds, scope); <see cref="Exact"/> then decides each candidate on the
/// document itself. When every SQL condition is known to be exact, paging and counting happen in SQL;
/// otherwise candidates are read in order and filtered until the page is full.
internal sealed class EntityQuery
{
    private readonly StringBuilder _where = new();
    private readonly List<(string Name, object Value)> _parameters = [];
    private int _next;

    /// True while every condition added so far selects exactly the entities Exact accepts.
    public bool SqlExact { get; private set; } = true;

    /// The final decision on a candidate document; null when SQL alone decides.
    public Func<JsonObject, bool>? Exact { get; set; }

    /// An order other than the stable default (oldest first): every match is read, sorted, then paged.
    public IComparer<JsonObject>? Order { get; set; }

    public void Ids(IReadOnlyCollection<string> ids) =>
        And($"e.id IN ({string.Join(",", ids.Select(Parameter))})");

    public void Types(IReadOnlyCollection<string> typeIris) =>
        And($"e.rid IN (SELECT rid FROM entity_types WHERE type IN ({string.Join(",", typeIris.Select(Parameter))}))");

    /// Entities that have at least one of these attributes.
    public void AnyAttribute(IReadOnlyCollection<string> attributeIris) =>
        And($"e.rid IN (SELECT rid FROM attr_values WHERE path IN ({string.Join(",", attributeIris.Select(Parameter))}))");

    /// Entities with a geometry of this attribute whose bounds meet the box.
    public void GeoBox(string attributeIri, double minX, double maxX, double minY, double maxY)
    {
        And($"e.rid IN (SELECT rid FROM geo WHERE attr = {Parameter(attributeIri)} AND maxx >= {Parameter(minX)} AND minx <= {Parameter(maxX)} AND maxy >= {Parameter(minY)} AND miny <= {Parameter(maxY)})");
        SqlExact = false;
    }

    /// A condition the SQL cannot decide: only the exact filter will.
    public void Inexact() => SqlExact = false;

    /// Narrows by q as far as the indexes can; what they cannot decide is left to Exact.
    public void Q(QNode q, JsonLdContext context)
    {
        var (sql, exact) = Translate(q, context);
        if (sql is not null)
        {
            And(sql);
        }
        SqlExact &= exact;
    }

    private (string? Sql, bool Exact) Translate(QNode node, JsonLdContext context)
    {
        switch (node)
        {
            case QAnd and:
                var parts = and.Operands.Select(o => Translate(o, context)).ToList();
                var known = parts.Where(p => p.Sql is not null).Select(p => p.Sql!).ToList();
                return (known.Count == 0 ? null : "(" + string.Join(" AND ", known) + ")", parts.All(p => p.Exact && p.Sql is not null));
            case QOr or:
                var options = or.Operands.Select(o => Translate(o, context)).ToList();
                // One operand the index cannot narrow makes the whole disjunction unnarrowable.
                return options.Any(p => p.Sql is null)
                    ? (null, false)
                    : ("(" + string.Join(" OR ", options.Select(p => p.Sql)) + ")", options.All(p => p.Exact));
            case QTerm term when term.Path.Names.Count > 0:
                return Term(term, context);
            default:
                return (null, false);
        }
    }

    private (string? Sql, bool Exact) Term(QTerm term, JsonLdContext context)
    {
        var path = IndexPath(term.Path, context);
        var plain = term.Path.Metadata is null && term.Path.TrailingPath.Count == 0;
        var exists = $"e.rid IN (SELECT rid FROM attr_values WHERE path = {Parameter(path)})";
        switch (term.Op)
        {
            case QOperator.Exists:
                return (exists, plain);
            case QOperator.NotExists:
                return ($"e.rid NOT IN (SELECT rid FROM attr_values WHERE path = {Parameter(path)})", plain);
            case QOperator.Equal:
                var values = term.Value switch
                {
                    QScalar s => [s],
                    QList l => l.Items.ToList(),
                    _ => null,
                };
                if (term.Value is QRange range && Column(range.Min) is { } rc && Column(range.Max) == rc)
                {
                    return (Values(path, $"{rc} BETWEEN {Parameter(Bound(range.Min)!)} AND {Parameter(Bound(range.Max)!)}"), true);
                }
                if (values is null || values.Any(v => Column(v) is null))
                {
                    return (exists, false);
                }
                var conditions = values.GroupBy(v => Column(v)!).Select(g =>
                    $"{g.Key} IN ({string.Join(",", g.SelectMany(v => Keys(v, context)).Select(Parameter))})");
                return (Values(path, "(" + string.Join(" OR ", conditions) + ")"), true);
            case QOperator.Greater or QOperator.GreaterOrEqual or QOperator.Less or QOperator.LessOrEqual
                when term.Value is QScalar scalar && Column(scalar) is { } column && scalar is not (QBool or QUri):
                return (Values(path, $"{column} {Operators.Text(term.Op)} {Parameter(Bound(scalar)!)}"), true);
            default:
                // !=, patterns, dates and times: the index only says the attribute is there.
                return (exists, false);
        }
    }

    private string Values(string path, string condition) =>
        $"e.rid IN (SELECT rid FROM attr_values WHERE path = {Parameter(path)} AND {condition})";

    private static string? Column(QScalar value) => value switch
    {
        QNumber or QDateTime => "num",
        QString or QBool or QUri => "str",
        _ => null,
    };

    private static object? Bound(QScalar value) => value switch
    {
        QNumber n => n.Value,
        QDateTime d => d.Value.ToUnixTimeMilliseconds() / 1000.0,
        QString s => s.Value,
        _ => null,
    };

    // The stored forms a value can equal: a bare word may name a vocab IRI, stored expanded.
    private static IEnumerable<object> Keys(QScalar value, JsonLdContext context) => value switch
    {
        QNumber n => [n.Value],
        QDateTime d => [d.Value.ToUnixTimeMilliseconds() / 1000.0],
        QString s => [s.Value],
        QBool b => [b.Value ? "true" : "false"],
        QUri u => [u.Value, context.ExpandTerm(u.Value)],
        _ => [],
    };

    private static string IndexPath(QPath path, JsonLdContext context)
    {
        var result = string.Join(IndexRows.Separator, path.ExpandedNames(context));
        if (path.Metadata is not null)
        {
            result = IndexRows.Join(result, "@" + path.Metadata);
        }
        foreach (var key in path.TrailingPath.Where(k => k != "*"))
        {
            result = IndexRows.Join(result, "[" + key + "]");
        }
        return result;
    }

    private void And(string condition) => _where.Append(" AND ").Append(condition);

    private string Parameter(object value)
    {
        var name = "$p" + _next++.ToString(CultureInfo.InvariantCulture);
        _parameters.Add((name, value));
        return name;
    }

    /// One page of matching documents in a stable order (oldest first), and the total when asked for.
    public (List<JsonObject> Page, long? Count) Run(SqliteConnection connection, int offset, int limit, bool count)
    {
        var page = new List<JsonObject>(Math.Min(limit, 1000));
        long? total = null;
        if (Order is not null)
        {
            return Sorted(connection, offset, limit, count);
        }
        if (SqlExact)
        {
            using var select = Command(connection, $"SELECT e.doc FROM entities e WHERE 1=1{_where} ORDER BY e.rid LIMIT {limit} OFFSET {offset}");
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    // The exact filter still has the last word; with exact SQL it agrees on every row.
                    var doc = JsonNode.Parse(reader.GetString(0))!.AsObject();
                    if (Exact is null || Exact(doc))
                    {
                        page.Add(doc);
                    }
                }
            }
            if (count)
            {
                using var counting = Command(connection, $"SELECT COUNT(*) FROM entities e WHERE 1=1{_where}");
                total = (long)counting.ExecuteScalar()!;
            }
            return (page, total);
        }

        using var candidates = Command(connection, $"SELECT e.doc FROM entities e WHERE 1=1{_where} ORDER BY e.rid");
        using var rows = candidates.ExecuteReader();
        long matched = 0;
        while (rows.Read())
        {
            var doc = JsonNode.Parse(rows.GetString(0))!.AsObject();
            if (Exact is not null && !Exact(doc))
            {
                continue;
            }
            if (matched >= offset && page.Count < limit)
            {
                page.Add(doc);
            }
            matched++;
            if (!count && page.Count >= limit)
            {
                break;
            }
        }
        return (page, count ? matched : null);
    }

    private (List<JsonObject> Page, long? Count) Sorted(SqliteConnection connection, int offset, int limit, bool count)
    {
        var all = new List<JsonObject>();
        using var candidates = Command(connection, $"SELECT e.doc FROM entities e WHERE 1=1{_where} ORDER BY e.rid");
        using var rows = candidates.ExecuteReader();
        while (rows.Read())
        {
            var doc = JsonNode.Parse(rows.GetString(0))!.AsObject();
            if (Exact is null || Exact(doc))
            {
                all.Add(doc);
            }
        }
        // OrderBy is stable, so entities that compare equal keep the default order.
        var page = all.OrderBy(d => d, Order!).Skip(offset).Take(limit).ToList();
        return (page, count ? all.Count : null);
    }

    private SqliteCommand Command(SqliteConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in _parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
