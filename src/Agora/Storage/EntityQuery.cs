using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Query;

namespace Agora.Storage;

/// A query over a tenant's entities, compiled to SQL over the indexes. SQL narrows the candidates (by id,
/// type, attribute values, geometry bounds, scope); <see cref="Exact"/> then decides each candidate on the
/// document itself. When every SQL condition is known to be exact, paging and counting happen in SQL;
/// otherwise candidates are read in order and filtered until the page is full.
internal sealed class EntityQuery
{
    // An index condition matching at most this many entities is worth reading whole to drive the query;
    // above it, reading entities in order and probing each condition stops sooner (after a page of matches).
    private const int DriverCap = 4000;

    /// A condition on entities, in the two forms SQL can use it: the set of matching rids (to drive from) and
    /// a test of the current row e (to probe with). Estimate counts the set up to the cap it is given. Broad
    /// conditions (type, attrs), which rarely drive, are counted last, against the smallest count so far.
    /// PostgreSQL takes the same conditions without SQLite's index hints, and geometry bounds from PostGIS
    /// (PostgresRids, PostgresProbe) instead of the R*Tree.
    private sealed record Condition(string Rids, string Probe, Func<DbConnection, EntityQuery, int, long>? Estimate, bool Broad = false)
    {
        public string? PostgresRids { get; init; }
        public string? PostgresProbe { get; init; }
        public string? Bounds { get; init; }
        public string? PostgresBounds { get; init; }

        public string RidsFor(bool postgres) => postgres ? PostgresRids ?? Rids : Rids;

        public string ProbeFor(bool postgres) => postgres ? PostgresProbe ?? Probe.Replace(ProbeColumn, "v.", StringComparison.Ordinal) : Probe;
    }

    // A probe compares the values of one entity's rows, which SQLite finds by the table's own (rid, path) key.
    // Without statistics it would rather seek (path, num) and scan a whole value range per candidate (79 ms
    // against 0.13 ms for a page over 60,000 entities); the unary + keeps the compared column off the value
    // indexes. PostgreSQL has no unary + for text and plans from statistics: it gets the bare column.
    private const string ProbeColumn = "+v.";

    private readonly List<Condition> _conditions = [];
    private readonly List<string> _filters = [];
    private readonly List<(string Name, object Value)> _parameters = [];
    private int _next;
    private string? _where;
    private Condition? _geo;
    private (double Lon, double Lat, double MaxDistance)? _near;

    /// True while every condition added so far selects exactly the entities Exact accepts.
    public bool SqlExact { get; private set; } = true;

    /// The final decision on a candidate document; null when SQL alone decides.
    public Func<JsonObject, bool>? Exact { get; set; }

    /// An order other than the stable default (oldest first): every match is read, sorted, then paged.
    public IComparer<JsonObject>? Order { get; set; }

    public void Ids(IReadOnlyCollection<string> ids) =>
        _filters.Add($"e.id IN ({string.Join(",", ids.Select(Parameter))})");

    public void Types(IReadOnlyCollection<string> typeIris)
    {
        var list = string.Join(",", typeIris.Select(Parameter));
        Add($"SELECT rid FROM entity_types WHERE type IN ({list})",
            $"EXISTS (SELECT 1 FROM entity_types t WHERE t.type IN ({list}) AND t.rid = e.rid)", broad: true);
    }

    /// Entities that have at least one of these attributes.
    public void AnyAttribute(IReadOnlyCollection<string> attributeIris)
    {
        var list = string.Join(",", attributeIris.Select(Parameter));
        _conditions.Add(ValueCondition(list, (v, paths) => v == ""
            ? $"SELECT rid FROM attr_values WHERE path IN {paths}"
            : $"EXISTS (SELECT 1 FROM attr_values v WHERE v.rid = e.rid AND v.path IN {paths})", broad: true));
    }

    /// Entities with a geometry of this attribute whose bounds meet the box.
    public void GeoBox(string attributeIri, double minX, double maxX, double minY, double maxY) =>
        _conditions.Add(_geo = GeoCondition(attributeIri, minX, maxX, minY, maxY));

    /// Entities with a geometry of this attribute within maxDistance metres of (lon, lat), as GeoBox over the box
    /// of that circle, read nearest first unless an Order is given (Nearest).
    public void Near(string attributeIri, double lon, double lat, double maxDistance)
    {
        var box = Geo.Sphere.CapBounds(lon, lat, maxDistance);
        GeoBox(attributeIri, box.MinLon, box.MaxLon, box.MinLat, box.MaxLat);
        _near = (lon, lat, maxDistance);
        _parameters.Add(("@lon", lon));
        _parameters.Add(("@lat", lat));
        _parameters.Add(("@k", Math.Cos(lat * Math.PI / 180)));
    }

    // On SQLite the geometry's id holds its entity (rid << GeometryBits | n) and its attribute is the R*Tree's
    // third dimension (SqliteIndexes), so the box is answered inside the R*Tree, without a seek per row.
    private Condition GeoCondition(string attributeIri, double minX, double maxX, double minY, double maxY)
    {
        var (attr, x0, x1, y0, y1) = (Parameter(attributeIri), Parameter(minX), Parameter(maxX), Parameter(minY), Parameter(maxY));
        var code = $"(SELECT code FROM geo_attrs WHERE attr = {attr})";
        var box = $"mina <= {code} AND maxa >= {code} AND maxx >= {x0} AND minx <= {x1} AND maxy >= {y0} AND miny <= {y1}";
        var envelope = $"g.attr = {attr} AND g.bounds && ST_MakeEnvelope({x0}, {y0}, {x1}, {y1})";
        var rids = $"SELECT id >> {SqliteIndexes.GeometryBits} AS rid FROM geo WHERE {box}";
        var postgresRids = $"SELECT g.rid FROM geo g WHERE {envelope}";
        SqlExact = false;
        return new Condition(rids, $"EXISTS (SELECT 1 FROM geo_rids gr JOIN geo ON geo.id = gr.gid WHERE gr.rid = e.rid AND {box})",
            (c, self, cap) => self.Count(c, Db.IsPostgres(c) ? postgresRids : rids, cap))
        {
            PostgresRids = postgresRids,
            PostgresProbe = $"EXISTS (SELECT 1 FROM geo g WHERE g.rid = e.rid AND {envelope})",
            // What a nearest-first run ranks, window by window (@wx0 … @wy1): each geometry's entity and the
            // distance from the point to its bounds (Nearest).
            Bounds = $"SELECT id >> {SqliteIndexes.GeometryBits}, {Flat("minx", "maxx", "miny", "maxy")} FROM geo "
                + $"WHERE mina <= {code} AND maxa >= {code} AND maxx >= @wx0 AND minx <= @wx1 AND maxy >= @wy0 AND miny <= @wy1",
            PostgresBounds = $"SELECT g.rid, {Flat("ST_XMin(g.bounds)", "ST_XMax(g.bounds)", "ST_YMin(g.bounds)", "ST_YMax(g.bounds)", "GREATEST", "LEAST")} FROM geo g "
                + $"WHERE g.attr = {attr} AND g.bounds && ST_MakeEnvelope(@wx0, @wy0, @wx1, @wy1)",
        };
    }

    // The square of the distance from the near point (@lon, @lat) to the nearest point of a box, in a flat
    // projection around the point (x = Δlon·cos φ, y = Δlat, in degrees): a ranking that orders as the distance
    // on the sphere does, to within its scale error (about Δφ·tan φ: centimetres at the few hundred metres near
    // queries ask for), and that SQL computes without handing each box back column by column.
    private static string Flat(string minX, string maxX, string minY, string maxY, string greatest = "max", string least = "min") =>
        $"(({greatest}({minX}, {least}({maxX}, @lon)) - @lon) * @k) * (({greatest}({minX}, {least}({maxX}, @lon)) - @lon) * @k)"
        + $" + ({greatest}({minY}, {least}({maxY}, @lat)) - @lat) * ({greatest}({minY}, {least}({maxY}, @lat)) - @lat)";

    /// A condition the SQL cannot decide: only the exact filter will.
    public void Inexact() => SqlExact = false;

    /// Narrows by q as far as the indexes can; what they cannot decide is left to Exact.
    public void Q(QNode q, JsonLdContext context)
    {
        // The conjuncts of q are conditions of their own, so that the most selective one can drive.
        foreach (var part in q is QAnd and ? and.Operands : [q])
        {
            var (condition, exact) = Translate(part, context);
            if (condition is not null)
            {
                _conditions.Add(condition);
            }
            SqlExact &= exact;
        }
    }

    private void Add(string rids, string probe, bool broad = false) =>
        _conditions.Add(new Condition(rids, probe, (c, self, cap) => self.Count(c, rids, cap), broad));

    // A condition on attr_values rows at these paths (a list of parameters), written once per store: SQLite
    // stores each path as its code in value_paths (TextCodes), PostgreSQL as its text. where writes the rest
    // of the condition for a column prefix, and any path a query names that no value ever had has no code,
    // so it matches no row.
    private Condition ValueCondition(string paths, Func<string, string, string> where, bool broad = false)
    {
        var coded = $"(SELECT code FROM value_paths WHERE path IN ({paths}))";
        var rids = where("", coded);
        var postgresRids = where("", $"({paths})");
        return new Condition(rids, where(ProbeColumn, coded), (c, self, cap) => self.Count(c, Db.IsPostgres(c) ? postgresRids : rids, cap), broad)
        {
            PostgresRids = postgresRids,
            PostgresProbe = where("v.", $"({paths})"),
        };
    }

    // Conditions joined by a set operator (their rid sets) and a boolean one (their probes), in each store's form.
    private static Condition Combined(List<Condition> parts, string sets, string probes, Func<DbConnection, EntityQuery, int, long>? estimate) =>
        new(string.Join(sets, parts.Select(k => k.Rids)), "(" + string.Join(probes, parts.Select(k => k.Probe)) + ")", estimate)
        {
            PostgresRids = string.Join(sets, parts.Select(k => k.RidsFor(postgres: true))),
            PostgresProbe = "(" + string.Join(probes, parts.Select(k => k.ProbeFor(postgres: true))) + ")",
        };

    // How many entities match, counted no further than cap + 1: enough to know whether it is under the cap.
    private long Count(DbConnection connection, string rids, int cap)
    {
        using var command = Command(connection, $"SELECT COUNT(*) FROM ({rids} LIMIT {cap + 1}) AS d");
        return (long)command.ExecuteScalar()!;
    }

    private (Condition? Condition, bool Exact) Translate(QNode node, JsonLdContext context)
    {
        switch (node)
        {
            case QAnd and:
                var parts = and.Operands.Select(o => Translate(o, context)).ToList();
                var known = parts.Where(p => p.Condition is not null).Select(p => p.Condition!).ToList();
                if (known.Count == 0)
                {
                    return (null, false);
                }
                return (Combined(known, " INTERSECT ", " AND ",
                    // Bounded by its smallest countable part; a part that cannot be counted (!attr) bounds nothing.
                    known.Any(k => k.Estimate is not null) ? (c, self, cap) => known.Where(k => k.Estimate is not null).Min(k => k.Estimate!(c, self, cap)) : null),
                    parts.All(p => p.Exact && p.Condition is not null));
            case QOr or:
                var options = or.Operands.Select(o => Translate(o, context)).ToList();
                // One operand the index cannot narrow makes the whole disjunction unnarrowable.
                if (options.Any(p => p.Condition is null))
                {
                    return (null, false);
                }
                var all = options.Select(p => p.Condition!).ToList();
                return (Combined(all, " UNION ", " OR ",
                    // Counted as the sum of its operands, so not at all when one of them cannot be (!attr).
                    all.All(k => k.Estimate is not null) ? (c, self, cap) => all.Sum(k => k.Estimate!(c, self, cap)) : null),
                    options.All(p => p.Exact));
            case QTerm { Path.Metadata: "createdAt" or "modifiedAt" }:
                // Not indexed (IndexRows): the exact evaluator decides.
                return (null, false);
            case QTerm term when term.Path.Names.Count > 0:
                return Term(term, context);
            default:
                return (null, false);
        }
    }

    private (Condition? Condition, bool Exact) Term(QTerm term, JsonLdContext context)
    {
        var path = Parameter(IndexPath(term.Path, context));
        var plain = term.Path.Metadata is null && term.Path.TrailingPath.Count == 0;
        var exists = Values(path, null);
        switch (term.Op)
        {
            case QOperator.Exists:
                return (exists, plain);
            case QOperator.NotExists:
                return (ValueCondition(path, (v, paths) => v == ""
                    ? $"SELECT rid FROM entities WHERE rid NOT IN (SELECT rid FROM attr_values WHERE path IN {paths})"
                    : $"NOT EXISTS (SELECT 1 FROM attr_values v WHERE v.rid = e.rid AND v.path IN {paths})") with { Estimate = null }, plain);
            case QOperator.Equal:
                var values = term.Value switch
                {
                    QScalar s => [s],
                    QList l => l.Items.ToList(),
                    _ => null,
                };
                if (term.Value is QRange range && Column(range.Min) is { } rc && Column(range.Max) == rc)
                {
                    var (low, high) = (Parameter(Bound(range.Min)!), Parameter(Bound(range.Max)!));
                    return (Values(path, v => $"{v}{rc} BETWEEN {low} AND {high}"), true);
                }
                if (values is null || values.Any(v => Column(v) is null))
                {
                    return (exists, false);
                }
                var lists = values.GroupBy(v => Column(v)!)
                    .Select(g => (Column: g.Key, List: string.Join(",", g.SelectMany(v => Keys(v, context)).Select(Parameter))))
                    .ToList();
                return (Values(path, v => "(" + string.Join(" OR ", lists.Select(l => $"{v}{l.Column} IN ({l.List})")) + ")"), true);
            case QOperator.Greater or QOperator.GreaterOrEqual or QOperator.Less or QOperator.LessOrEqual
                when term.Value is QScalar scalar && Column(scalar) is { } column && scalar is not (QBool or QUri):
                var bound = Parameter(Bound(scalar)!);
                return (Values(path, v => $"{v}{column} {Operators.Text(term.Op)} {bound}"), true);
            default:
                // !=, patterns, dates and times: the index only says the attribute is there.
                return (exists, false);
        }
    }

    /// Entities with a value at this path meeting the condition, which is written for a column prefix
    /// ("" in the rid set, "v." in the probe).
    private Condition Values(string path, Func<string, string>? condition) =>
        ValueCondition(path, (v, paths) => v == ""
            ? $"SELECT rid FROM attr_values WHERE path IN {paths}" + (condition is null ? "" : " AND " + condition(""))
            : $"EXISTS (SELECT 1 FROM attr_values v WHERE v.rid = e.rid AND v.path IN {paths}" + (condition is null ? "" : " AND " + condition(v)) + ")");

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

    private string Parameter(object value)
    {
        var name = "@p" + _next++.ToString(CultureInfo.InvariantCulture);
        _parameters.Add((name, value is string text ? Db.Text(text) : value));
        return name;
    }

    /// The WHERE clause, planned once per run: the most selective index condition drives when it is small,
    /// every other condition probes the candidate row.
    private string Where(DbConnection connection)
    {
        if (_where is not null)
        {
            return _where;
        }
        var clauses = new List<string>(_filters);
        Condition? driver = null;
        long best = long.MaxValue;
        var postgres = Db.IsPostgres(connection);
        // PostgreSQL plans the semi-joins itself from its statistics; counting would cost a round trip each.
        if (_filters.Count == 0 && !postgres)
        {
            // A count need only go as far as the smallest so far: a type matching 20,000 entities is counted to
            // 201 when a q term matched 200, not to the cap, on every query.
            foreach (var condition in _conditions.Where(c => c.Estimate is not null).OrderBy(c => c.Broad))
            {
                var estimate = condition.Estimate!(connection, this, (int)Math.Min(best, DriverCap));
                if (estimate <= DriverCap && estimate < best)
                {
                    (driver, best) = (condition, estimate);
                }
            }
        }
        foreach (var condition in _conditions)
        {
            clauses.Add(condition == driver ? $"e.rid IN ({condition.RidsFor(postgres)})" : condition.ProbeFor(postgres));
        }
        return _where = clauses.Count == 0 ? "" : " AND " + string.Join(" AND ", clauses);
    }

    /// One page of matching documents in a stable order (oldest first), and the total when asked for.
    public (List<JsonObject> Page, long? Count) Run(DbConnection connection, int offset, int limit, bool count)
    {
        // An order by id alone is the id index's: rows stream in that order as they do in the default one.
        var byId = Order is Entities.OrderBy { ById: true };
        if (Order is not null && !byId)
        {
            return Sorted(connection, offset, limit, count);
        }
        if (_near is { } near && Order is null)
        {
            return Nearest(connection, near, offset, limit, count);
        }
        if (RunStored(connection, offset, limit, count) is var (texts, total))
        {
            // The exact filter still has the last word; with exact SQL it agrees on every row.
            return ([.. texts.Select(t => JsonNode.Parse(t)!.AsObject()).Where(doc => Exact is null || Exact(doc))], total);
        }

        var page = new List<JsonObject>(Math.Min(limit, 1000));
        var order = byId ? "e.id" : "e.rid";
        using var candidates = Command(connection, $"SELECT e.doc FROM entities e WHERE 1=1{Where(connection)} ORDER BY {order}");
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

    /// A page of stored documents as text, when SQL decides the query alone (every condition exact, the default
    /// order or the id's, no near ranking): then SQL pages and counts, no candidate needs parsing to be tested,
    /// and EntityWriter renders the text. Null otherwise: Run decides.
    public (List<string> Page, long? Count)? RunStored(DbConnection connection, int offset, int limit, bool count)
    {
        if (!SqlExact || _near is not null || Order is not (null or Entities.OrderBy { ById: true }))
        {
            return null;
        }
        // In id order the page's rows are chosen first and their documents read after: sorting the matches by
        // id with their documents read every match's (a type + q query sorted 206 documents for a page of 20;
        // in sqlite3, 0.83 ms a query, now 0.47; the default order, which streams, 0.13).
        var sql = Order is null
            ? $"SELECT e.doc FROM entities e WHERE 1=1{Where(connection)} ORDER BY e.rid LIMIT {limit} OFFSET {offset}"
            : $"SELECT e.doc FROM entities e WHERE e.rid IN (SELECT e.rid FROM entities e WHERE 1=1{Where(connection)} ORDER BY e.id LIMIT {limit} OFFSET {offset}) ORDER BY e.id";
        var page = new List<string>(Math.Min(limit, 1000));
        using (var select = Command(connection, sql))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                page.Add(reader.GetString(0));
            }
        }
        long? total = null;
        if (count)
        {
            using var counting = Command(connection, $"SELECT COUNT(*) FROM entities e WHERE 1=1{Where(connection)}");
            total = (long)counting.ExecuteScalar()!;
        }
        return (page, total);
    }

    /// A near query, nearest first. The R*Tree (or GiST) gives the geometries of the attribute in a window around
    /// the point, each with the distance from the point to its bounds (Flat: exact for a point up to the index's
    /// 32-bit rounding, under a metre; a lower bound for other shapes); entities are ranked by their nearest
    /// geometry, ties by rid, and decided in that order (the other conditions probe them in chunks, then the
    /// document is parsed and tested) until the page is full. The first window's radius is an eighth of
    /// maxDistance: whatever lies within it is ranked correctly against everything outside, so when enough
    /// entities there pass, the page is complete; otherwise the window grows for the density it found, up to
    /// maxDistance, reusing what was decided. The work thus follows the page, not the size of the circle (a
    /// store ten times denser answers from a window a third as wide). A count reads the whole circle.
    private (List<JsonObject> Page, long? Count) Nearest(DbConnection connection, (double Lon, double Lat, double MaxDistance) near, int offset, int limit, bool count)
    {
        var postgres = Db.IsPostgres(connection);
        var decided = new Dictionary<long, JsonObject?>();
        var radius = count ? near.MaxDistance : near.MaxDistance / 8;
        while (true)
        {
            var whole = radius >= near.MaxDistance;
            var window = Geo.Sphere.CapBounds(near.Lon, near.Lat, Math.Min(radius, near.MaxDistance));
            // Inside the window's circle (with 5% to spare for the flat projection), ranks are final; beyond it,
            // in the window's corners, an entity outside the window could be nearer.
            var final = whole ? double.PositiveInfinity : Math.Pow(0.95 * radius / MetresPerDegree, 2);
            var ranked = Ranked(connection, postgres, window, final);
            Decide(connection, postgres, ranked, decided, count ? int.MaxValue : offset + limit);
            var accepted = ranked.Where(rid => decided.TryGetValue(rid, out var doc) && doc is not null).ToList();
            if (whole || accepted.Count >= offset + limit)
            {
                return ([.. accepted.Skip(offset).Take(limit).Select(rid => decided[rid]!)], count ? accepted.Count : null);
            }
            // The next window is sized for the density seen so far (matches grow with the area, the square of the
            // radius), with a third to spare, and grows by at least half and at most four times.
            radius *= Math.Clamp(Math.Sqrt(1.3 * (offset + limit) / Math.Max(accepted.Count, 0.5)), 1.5, 4);
        }
    }

    private const double MetresPerDegree = Geo.Sphere.EarthRadius * Math.PI / 180;

    // The entities with a geometry in the window whose flat distance (squared, in degrees) is within final,
    // nearest first, ties by rid.
    private List<long> Ranked(DbConnection connection, bool postgres, Geo.Box window, double final)
    {
        var distances = new Dictionary<long, double>();
        using var bounds = Command(connection, postgres ? _geo!.PostgresBounds! : _geo!.Bounds!);
        bounds.Parameters.AddWithValue("@wx0", window.MinLon);
        bounds.Parameters.AddWithValue("@wx1", window.MaxLon);
        bounds.Parameters.AddWithValue("@wy0", window.MinLat);
        bounds.Parameters.AddWithValue("@wy1", window.MaxLat);
        using var rows = bounds.ExecuteReader();
        while (rows.Read())
        {
            var (rid, d) = (rows.GetInt64(0), rows.GetDouble(1));
            if (d <= final)
            {
                distances[rid] = distances.TryGetValue(rid, out var other) ? Math.Min(d, other) : d;
            }
        }
        return [.. distances.OrderBy(p => p.Value).ThenBy(p => p.Key).Select(p => p.Key)];
    }

    // Decides the candidates not decided yet, in rank order and in growing chunks, until wanted of them pass: a
    // passing entity's document, or null. The other conditions probe each chunk in SQL; Exact tests the documents.
    private void Decide(DbConnection connection, bool postgres, List<long> ranked, Dictionary<long, JsonObject?> decided, int wanted)
    {
        var passed = ranked.Count(rid => decided.TryGetValue(rid, out var doc) && doc is not null);
        var probes = string.Concat(_filters.Select(f => " AND " + f).Concat(_conditions.Where(c => c != _geo).Select(c => " AND " + c.ProbeFor(postgres))));
        var sql = postgres
            ? $"SELECT e.rid, e.doc FROM entities e WHERE e.rid = ANY(@chunk){probes}"
            : $"SELECT e.rid, e.doc FROM entities e WHERE e.rid IN (SELECT value FROM json_each(@chunk)){probes}";
        var undecided = ranked.Where(rid => !decided.ContainsKey(rid)).ToList();
        var size = Math.Clamp(2 * wanted, 32, 4000);
        for (var start = 0; start < undecided.Count && passed < wanted; start += size, size = Math.Min(size * 2, 16_000))
        {
            var chunk = undecided.GetRange(start, Math.Min(size, undecided.Count - start)).ToArray();
            var found = new Dictionary<long, string>(chunk.Length);
            using (var select = Command(connection, sql))
            {
                select.Parameters.AddWithValue("@chunk", postgres ? chunk : "[" + string.Join(",", chunk) + "]");
                using var rows = select.ExecuteReader();
                while (rows.Read())
                {
                    found[rows.GetInt64(0)] = rows.GetString(1);
                }
            }
            foreach (var rid in chunk)
            {
                var doc = found.TryGetValue(rid, out var text) ? JsonNode.Parse(text)!.AsObject() : null;
                decided[rid] = doc is not null && (Exact is null || Exact(doc)) ? doc : null;
                passed += decided[rid] is null ? 0 : 1;
            }
        }
    }

    private (List<JsonObject> Page, long? Count) Sorted(DbConnection connection, int offset, int limit, bool count)
    {
        var all = new List<JsonObject>();
        using var candidates = Command(connection, $"SELECT e.doc FROM entities e WHERE 1=1{Where(connection)} ORDER BY e.rid");
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

    private DbCommand Command(DbConnection connection, string sql)
    {
        var command = Statements.For(connection, sql);
        foreach (var (name, value) in _parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
