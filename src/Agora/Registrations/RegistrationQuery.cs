using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Entities;
using Agora.Errors;
using Agora.Geo;
using Agora.JsonLd;
using Agora.Query;
using Agora.Subscriptions;
using Agora.Temporal;

namespace Agora.Registrations;

/// A query of context source registrations (clause 5.10.2): which registrations could supply the entities and
/// attributes asked for (id, idPattern, type, attrs), and which of them satisfy a filter over their own
/// properties (csf, or q as the ETSI suite sends it), a scope query over their scope, a geo-query over location,
/// observationSpace or operationSpace, and a temporal query over observationInterval (observedAt) or managementInterval
/// (createdAt, modifiedAt). An empty parameter counts as absent.
internal sealed class RegistrationQuery
{
    public static readonly string[] Parameters =
    [
        "id", "idPattern", "type", "attrs", "q", "csf", "scopeQ", "georel", "geometry", "coordinates", "geoproperty", "timeproperty",
        "timerel", "timeAt", "endTimeAt", "limit", "offset", "count", "options",
    ];

    private readonly JsonLdContext _context;
    private readonly IReadOnlyList<string>? _ids;
    private readonly Regex? _idPattern;
    private readonly TypeSelection? _type;
    private readonly IReadOnlySet<string>? _attrs;
    private readonly QExpression? _filter;
    private readonly ScopeQuery? _scope;
    private readonly GeoQuery? _geo;
    private readonly TimeQuery? _time;

    private RegistrationQuery(IQueryCollection query, JsonLdContext context)
    {
        _context = context;
        string? Get(string name) => query[name].ToString() is { Length: > 0 } s ? s : null;
        if (Get("id") is not null)
        {
            _ids = RepresentationQuery.List(query, "id");
            foreach (var id in _ids)
            {
                Names.CheckUri(id, "id");
            }
        }
        if (Get("idPattern") is { } pattern)
        {
            try
            {
                _idPattern = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            }
            catch (ArgumentException e)
            {
                throw NgsiLdException.BadRequest("Invalid idPattern", $"'{Names.Shorten(pattern)}' is not a regular expression: {e.Message}");
            }
        }
        _type = Get("type") is { } type ? TypeSelection.Parse(type) : null;
        if (Get("attrs") is not null)
        {
            _attrs = RepresentationQuery.List(query, "attrs").Select(a => RepresentationQuery.Expand(a, context)).ToHashSet(StringComparer.Ordinal);
        }
        if (Get("csf") is not null && Get("q") is not null)
        {
            throw NgsiLdException.BadRequest("Invalid csf", "csf and q filter the same registration properties; give one of them.");
        }
        _filter = (Get("csf") ?? Get("q")) is { } filter ? QExpression.Parse(filter) : null;
        _scope = Get("scopeQ") is { } scopeQ ? ScopeQuery.Parse(scopeQ) : null;
        var geo = GeoQuery.Parse(Get("georel"), Get("geometry"), Get("coordinates"), Get("geoproperty"));
        if (geo is not null && !RegistrationInput.GeoMembers.Contains(geo.GeoProperty))
        {
            throw NgsiLdException.BadRequest("Invalid geoproperty", $"A registration's geoproperty is location, observationSpace or operationSpace, not '{Names.Shorten(geo.GeoProperty)}'.");
        }
        _geo = geo;
        _time = Temporal(TimeQuery.Parse(Get));
        if (_ids is null && _idPattern is null && _type is null && _attrs is null && _filter is null && _scope is null && _geo is null && _time is null)
        {
            throw NgsiLdException.BadRequest("Query too broad",
                "A query of registrations needs at least one of id, idPattern, type, attrs, csf (or q), scopeQ, a geo-query or a temporal query (clause 5.10.2).");
        }
    }

    public static RegistrationQuery Parse(IQueryCollection query, JsonLdContext context) => new(query, context);

    /// A temporal query as registrations take it (clause 5.10.2, and a subscription's temporalQ, clause 5.11.7):
    /// over observationInterval (observedAt) or managementInterval (createdAt, modifiedAt); null without timerel.
    public static TimeQuery? Temporal(TimeQuery time) =>
        time.LastN is not null || time.Property == "deletedAt"
            ? throw NgsiLdException.BadRequest("Invalid temporal query", "A registration query takes timerel, timeAt, endTimeAt and a timeproperty of observedAt, createdAt or modifiedAt.")
            : time.Rel is null ? null : time;

    /// A subscription's temporalQ as registrations take it, or null when it has none.
    public static TimeQuery? Temporal(JsonObject subscription) =>
        subscription["temporalQ"] is JsonObject temporalQ ? Temporal(TimeQuery.Parse(temporalQ, _ => null)) : null;

    private RegistrationQuery(JsonLdContext context, IReadOnlyList<string>? ids, Regex? idPattern, TypeSelection? type, IReadOnlySet<string>? attrs, QExpression? filter, ScopeQuery? scope, GeoQuery? geo, TimeQuery? time)
    {
        _context = context;
        _ids = ids;
        _idPattern = idPattern;
        _type = type;
        _attrs = attrs;
        _filter = filter;
        _scope = scope;
        _geo = geo;
        _time = time;
    }

    /// Which registrations a context source registration subscription (clause 5.11) is about, as its notifications
    /// show them: those that could supply an entity of one of its selectors (any, without selectors) and one of its
    /// watchedAttributes, and that satisfy its csf (or q), its scopeQ, its geoQ and its temporalQ; each with only the
    /// RegistrationInfo entries that match (clause 5.11.7 recommends it, ETSI 047_03), or null when it is not
    /// selected. The subscription's stored names are expanded already; q and csf use the context it was written in.
    public static Func<JsonObject, JsonObject?> Narrowing(Subscription s)
    {
        var queries = QueriesOf(s);
        return doc =>
        {
            var matching = queries.Where(q => q.Matches(doc)).ToList();
            if (matching.Count == 0)
            {
                return null;
            }
            var narrowed = (JsonObject)doc.DeepClone();
            narrowed["information"] = new JsonArray([.. doc["information"]!.AsArray().OfType<JsonObject>()
                .Where(info => matching.Any(q => q.SuppliesEntities(info)))
                .Select(info => (JsonNode?)info.DeepClone())]);
            return narrowed;
        };
    }

    private static List<RegistrationQuery> QueriesOf(Subscription s)
    {
        var filter = s.Doc["csf"] is JsonValue csf ? QExpression.Parse((string)csf!) : s.Q;
        // A registration keeps location, observationSpace and operationSpace under their short names.
        var geo = s.Geo is { } g ? g with { GeoProperty = JsonLdContext.Core.CompactIri(g.GeoProperty) } : null;
        var time = Temporal(s.Doc);
        return s.Selectors.Count == 0
            ? [new(s.QueryContext, null, null, null, s.Watched, filter, s.ScopeQ, geo, time)]
            : [.. s.Selectors.Select(x => new RegistrationQuery(s.QueryContext, x.Id is null ? null : [x.Id], x.IdPattern, x.Type, s.Watched, filter, s.ScopeQ, geo, time))];
    }

    public bool Matches(JsonObject doc) =>
        doc["information"]!.AsArray().OfType<JsonObject>().Any(SuppliesEntities)
        && (_filter is null || _filter.Matches(PropertiesOf(doc), _context))
        && (_scope is null || _scope.Matches(ScopesOf(doc["scope"])))
        && (_geo is null || doc[_geo.GeoProperty] is JsonObject geometry && _geo.Matches(geometry))
        && (_time is null || Overlaps(doc[_time.Property == "observedAt" ? "observationInterval" : "managementInterval"] as JsonObject));

    /// Whether one RegistrationInfo could supply entities of the ids and types, and the attributes, asked for.
    private bool SuppliesEntities(JsonObject info)
    {
        if (_attrs is not null && (info["propertyNames"] is JsonArray || info["relationshipNames"] is JsonArray))
        {
            var names = new[] { info["propertyNames"], info["relationshipNames"] }.OfType<JsonArray>().SelectMany(a => a).Select(n => (string)n!);
            if (!names.Any(_attrs.Contains))
            {
                return false;
            }
        }
        if (_ids is null && _idPattern is null && _type is null)
        {
            return true;
        }
        // Without entities, the source may hold entities of any type and id.
        return info["entities"] is not JsonArray entities || entities.OfType<JsonObject>().Any(SuppliesEntity);
    }

    private bool SuppliesEntity(JsonObject entity)
    {
        if (_type is not null && !_type.Matches([(string)entity["type"]!], _context))
        {
            return false;
        }
        var id = (string?)entity["id"];
        var pattern = (string?)entity["idPattern"];
        if (_ids is not null && id is not null && !_ids.Contains(id))
        {
            return false;
        }
        if (_ids is not null && id is null && pattern is not null && !_ids.Any(i => SafeMatch(pattern, i)))
        {
            return false;
        }
        // A registered id must match the pattern asked for; a registered pattern may overlap it, which cannot be decided, so it is kept.
        return _idPattern is null || id is null || SafeMatch(_idPattern, id);
    }

    private static bool SafeMatch(string pattern, string id)
    {
        try
        {
            return Regex.IsMatch(id, pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static bool SafeMatch(Regex pattern, string id)
    {
        try
        {
            return pattern.IsMatch(id);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    // A registration's scope is one scope or an array of them.
    private static IEnumerable<string> ScopesOf(JsonNode? scope) => scope switch
    {
        JsonArray scopes => scopes.Select(x => (string)x!),
        JsonValue one => [(string)one!],
        _ => [],
    };

    /// The registration's own properties as an entity whose attributes csf can test: each extra property (as a
    /// Property unless it is already written as an attribute) and the plain members of clause 5.2.9.
    private static JsonObject PropertiesOf(JsonObject doc)
    {
        var entity = new JsonObject();
        foreach (var (name, value) in doc)
        {
            if (name is "id" or "type" or "information" || RegistrationInput.GeoMembers.Contains(name) || value is null)
            {
                continue;
            }
            var key = RegistrationInput.Known.Contains(name) || RegistrationInput.System.Contains(name) ? JsonLdContext.Core.ExpandTerm(name) : name;
            entity[key] = new JsonArray(value is JsonObject { } attribute && attribute["type"] is JsonValue
                ? attribute.DeepClone()
                : new JsonObject { ["type"] = "Property", ["value"] = value.DeepClone() });
        }
        return entity;
    }

    // The interval holds some instant of the query's range: before T needs a start before T; after T an end
    // after T (or none); between T and E both.
    private bool Overlaps(JsonObject? interval)
    {
        if (interval is null || TemporalRows.Millis((string?)interval["startAt"] ?? "") is not { } start)
        {
            return false;
        }
        var end = interval["endAt"] is { } e ? TemporalRows.Millis((string)e!) : null;
        return (_time!.To is not { } to || start < to) && (_time.From is not { } from || end is null || end > from);
    }
}
