using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.Temporal;

namespace Agora.Market;

/// Reads and checks what a city sends to the market API: a data source's scope and an offering's terms. Each
/// failure is BadRequestData naming the member. Type and attribute names are expanded with the request's
/// @context, so the stored scope holds IRIs as the entity store does.
internal static class MarketInput
{
    public static readonly string[] AccessModes = ["open", "approval", "closed"];
    public static readonly string[] PricePlans = ["free", "oneTime", "recurring", "perUse"];
    public static readonly string[] QuotaNames = ["callsPerDay", "notificationsPerDay", "bytesPerDay"];

    // An SPDX licence id (CC-BY-4.0, ODbL-1.0, LicenseRef-…), or a URI (the EU's licence authority table).
    private static readonly Regex Spdx = new(@"^[A-Za-z0-9][A-Za-z0-9.+\-]{0,63}$", RegexOptions.CultureInvariant);

    public static JsonObject DataSource(JsonObject body, JsonLdContext context)
    {
        var types = Names(body, "entityTypes", required: true)!;
        types.ForEach(Entities.Names.CheckTypeName);
        var source = new JsonObject
        {
            ["name"] = Text(body, "name", required: true, max: 200),
            ["entityTypes"] = Array(types.Select(context.ExpandTerm)),
        };
        if (Text(body, "idPattern", required: false, max: 1000) is { } pattern)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            }
            catch (ArgumentException e)
            {
                throw Invalid("idPattern", $"is not a regular expression: {e.Message}");
            }
            source["idPattern"] = pattern;
        }
        if (Names(body, "attributes", required: false) is { } attributes)
        {
            source["attributes"] = Array(attributes.Select(a => RepresentationQuery.Expand(a, context)));
        }
        if (body["area"] is { } area)
        {
            string? error = null;
            if (area is not JsonObject geometry || Geo.GeoJson.Read(geometry, ref error) is not { } shape)
            {
                throw Invalid("area", $"must be a GeoJSON geometry ({error ?? "an object with type and coordinates"}).");
            }
            if (shape is not (NetTopologySuite.Geometries.Polygon or NetTopologySuite.Geometries.MultiPolygon) || !shape.IsValid)
            {
                throw Invalid("area", "must be a valid Polygon or MultiPolygon: an area that covers entities.");
            }
            source["area"] = geometry.DeepClone();
        }
        source["history"] = History(body["history"]);
        return source;
    }

    private static JsonObject History(JsonNode? node)
    {
        if (node is null)
        {
            return new JsonObject { ["allowed"] = false };
        }
        if (node is not JsonObject history || history["allowed"] is not JsonValue allowedValue || !allowedValue.TryGetValue<bool>(out var allowed))
        {
            throw Invalid("history", "must be an object {\"allowed\": true|false, \"window\": ISO 8601 duration}.");
        }
        var result = new JsonObject { ["allowed"] = allowed };
        if (Text(history, "window", required: false, max: 40) is { } window)
        {
            if (!allowed)
            {
                throw Invalid("history.window", "is only meaningful when history is allowed.");
            }
            // At most a century back: a window is a period of history, and longer ones overflow date arithmetic.
            if (!IsoDuration.TryParse(window, out var duration) || duration.IsZero || duration.Years * 12 + duration.Months > 1200 || duration.Days > 36_600
                || duration.Time > TimeSpan.FromDays(36_600))
            {
                throw Invalid("history.window", "must be a positive ISO 8601 duration of at most a century, such as P30D.");
            }
            result["window"] = window;
        }
        return result;
    }

    /// An offering's members, all required on create; on an update (partial) only those given are read.
    public static JsonObject Offering(JsonObject body, bool partial)
    {
        var offering = new JsonObject();
        void Read(string name, Func<JsonNode, JsonNode> parse)
        {
            if (body[name] is { } value)
            {
                offering[name] = parse(value);
            }
            else if (!partial && name is "dataSource" or "title" or "licence" or "accessMode" or "pricePlan")
            {
                throw Invalid(name, "is required.");
            }
        }
        foreach (var (name, _) in body)
        {
            if (name is not ("dataSource" or "title" or "description" or "licence" or "accessMode" or "pricePlan" or "quotas" or "sla"))
            {
                throw Invalid(name, "is not a member of an offering (dataSource, title, description, licence, accessMode, pricePlan, quotas, sla).");
            }
        }
        Read("dataSource", v => Text(v, "dataSource", 100));
        Read("title", v => Text(v, "title", 200));
        Read("description", v => Text(v, "description", 4000));
        Read("licence", Licence);
        Read("accessMode", v => OneOf(v, "accessMode", AccessModes));
        Read("pricePlan", PricePlan);
        Read("quotas", Quotas);
        Read("sla", Sla);
        return offering;
    }

    private static JsonNode Licence(JsonNode node)
    {
        if (node is JsonValue v && v.TryGetValue<string>(out var id))
        {
            if (Spdx.IsMatch(id) || (Uri.TryCreate(id, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                return id;
            }
            throw Invalid("licence", $"'{Entities.Names.Shorten(id)}' is neither an SPDX licence id (CC-BY-4.0) nor an http(s) licence URI.");
        }
        if (node is not JsonObject custom)
        {
            throw Invalid("licence", "must be an SPDX id, a licence URI, or a custom licence object {purpose, region, period, exclusivity, resale}.");
        }
        foreach (var (name, _) in custom)
        {
            if (name is not ("purpose" or "region" or "period" or "exclusivity" or "resale"))
            {
                throw Invalid("licence." + name, "is not a member of a custom licence (purpose, region, period, exclusivity, resale).");
            }
        }
        var licence = new JsonObject
        {
            ["purpose"] = Text(custom, "purpose", required: true, max: 1000, prefix: "licence."),
            ["region"] = Text(custom, "region", required: true, max: 200, prefix: "licence."),
            ["exclusivity"] = Flag(custom, "exclusivity"),
            ["resale"] = Flag(custom, "resale"),
        };
        if (custom["period"] is { } given)
        {
            var period = given as JsonObject ?? throw Invalid("licence.period", "must be an object {start, end}.");
            var start = Instant(period, "start");
            var end = Instant(period, "end");
            if (start is not null && end is not null && end <= start)
            {
                throw Invalid("licence.period", "must end after it starts.");
            }
            licence["period"] = new JsonObject { ["start"] = Format(start), ["end"] = Format(end) };
        }
        return licence;
    }

    /// The end of a custom licence's period, which is when an agreement under it expires.
    public static DateTimeOffset? PeriodEnd(JsonNode? licence) =>
        licence is JsonObject custom && custom["period"]?["end"] is JsonValue end && end.TryGetValue<string>(out var text)
            ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
            : null;

    private static JsonObject PricePlan(JsonNode node)
    {
        if (node is not JsonObject plan)
        {
            throw Invalid("pricePlan", "must be an object with a type (free, oneTime, recurring, perUse).");
        }
        var type = OneOf(plan["type"] ?? throw Invalid("pricePlan.type", "is required."), "pricePlan.type", PricePlans);
        var result = new JsonObject { ["type"] = type };
        var allowed = type switch
        {
            "free" => new[] { "type" },
            "recurring" => ["type", "currency", "amount", "period"],
            _ => ["type", "currency", "amount"],
        };
        foreach (var (name, _) in plan)
        {
            if (!allowed.Contains(name))
            {
                throw Invalid("pricePlan." + name, $"is not a member of a {type} price plan ({string.Join(", ", allowed)}).");
            }
        }
        if (type == "free")
        {
            return result;
        }
        var currency = Text(plan, "currency", required: true, max: 3, prefix: "pricePlan.")!;
        if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
        {
            throw Invalid("pricePlan.currency", "must be an ISO 4217 code such as EUR.");
        }
        result["currency"] = currency;
        result["amount"] = plan["amount"] is JsonValue a && a.TryGetValue<decimal>(out var amount) && amount >= 0
            ? amount
            : throw Invalid("pricePlan.amount", "must be a number of at least 0" + (type == "perUse" ? " (per call)." : "."));
        if (type == "recurring")
        {
            var period = Text(plan, "period", required: true, max: 40, prefix: "pricePlan.")!;
            result["period"] = IsoDuration.TryParse(period, out var d) && !d.IsZero ? period
                : throw Invalid("pricePlan.period", "must be an ISO 8601 duration such as P1M.");
        }
        return result;
    }

    private static JsonObject Quotas(JsonNode node)
    {
        if (node is not JsonObject quotas)
        {
            throw Invalid("quotas", "must be an object {callsPerDay, notificationsPerDay, bytesPerDay}.");
        }
        var result = new JsonObject();
        foreach (var (name, value) in quotas)
        {
            if (!QuotaNames.Contains(name))
            {
                throw Invalid("quotas." + name, "is not a quota (callsPerDay, notificationsPerDay, bytesPerDay).");
            }
            result[name] = value is JsonValue v && v.TryGetValue<long>(out var n) && n > 0
                ? n
                : throw Invalid("quotas." + name, "must be a positive integer.");
        }
        return result;
    }

    private static JsonObject Sla(JsonNode node)
    {
        if (node is not JsonObject sla)
        {
            throw Invalid("sla", "must be an object {availability, responseTimeMs}.");
        }
        var result = new JsonObject();
        foreach (var (name, value) in sla)
        {
            result[name] = name switch
            {
                "availability" => value is JsonValue v && v.TryGetValue<double>(out var p) && p is > 0 and <= 100 ? p
                    : throw Invalid("sla.availability", "must be a percentage above 0 and at most 100."),
                "responseTimeMs" => value is JsonValue v && v.TryGetValue<int>(out var ms) && ms > 0 ? ms
                    : throw Invalid("sla.responseTimeMs", "must be a positive number of milliseconds."),
                _ => throw Invalid("sla." + name, "is not an SLA term (availability, responseTimeMs)."),
            };
        }
        return result;
    }

    public static string? Text(JsonObject body, string name, bool required, int max, string prefix = "") => body[name] switch
    {
        null when required => throw Invalid(prefix + name, "is required."),
        null => null,
        var node => Text(node, prefix + name, max),
    };

    private static string Text(JsonNode node, string name, int max)
    {
        var s = node is JsonValue v && v.TryGetValue<string>(out var text) && text.Trim().Length > 0 && text.Length <= max
            ? text
            : throw Invalid(name, $"must be a non-empty string of at most {max} characters.");
        // Line breaks and tabs may format a description; other control characters (NUL, which PostgreSQL cannot
        // store, among them) and unpaired surrogates are no one's text.
        return s.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')) || !ConsumerNames.Wellformed(s)
            ? throw Invalid(name, "must not contain control characters (but line breaks and tabs) or unpaired surrogates.")
            : s;
    }

    private static string OneOf(JsonNode node, string name, string[] values) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) && values.Contains(s)
            ? s
            : throw Invalid(name, $"must be one of {string.Join(", ", values)}.");

    private static bool Flag(JsonObject body, string name) => body[name] switch
    {
        null => false,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => throw Invalid("licence." + name, "must be true or false."),
    };

    private static DateTimeOffset? Instant(JsonNode period, string name) => period[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s)
            && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) => t,
        _ => throw Invalid("licence.period." + name, "must be a date-time such as 2027-01-31T00:00:00Z."),
    };

    public static string? Format(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static List<string>? Names(JsonObject body, string name, bool required)
    {
        switch (body[name])
        {
            case null when required:
                throw Invalid(name, "is required: a non-empty array of names.");
            case null:
                return null;
            case JsonArray { Count: > 0 } list when list.All(i => i is JsonValue v && v.TryGetValue<string>(out _)):
                return [.. list.Select(i => (string)i!).Distinct()];
            default:
                throw Invalid(name, "must be a non-empty array of names.");
        }
    }

    private static JsonArray Array(IEnumerable<string> items) => new([.. items.Select(i => (JsonNode?)JsonValue.Create(i))]);

    public static NgsiLdException Invalid(string member, string problem) =>
        NgsiLdException.BadRequest("Invalid " + member, $"{member} {problem}");
}
