using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Entities;
using Agora.Geo;
using Agora.JsonLd;
using Agora.Query;

namespace Agora.Subscriptions;

/// One entity selector of a subscription: type selection (expanded names), id, idPattern.
internal sealed record SubscriptionSelector(TypeSelection Type, string? Id, Regex? IdPattern);

/// A stored subscription ready to match changes: parsed once when it is written or loaded, so that matching
/// an entity change costs no parsing. Context renders notifications (the subscription's jsonldContext);
/// QueryContext expands the names in q, as the client wrote them.
internal sealed class Subscription
{
    private Subscription(JsonObject doc, JsonLdContext context, JsonLdContext queryContext)
    {
        Doc = doc;
        Context = context;
        QueryContext = queryContext;
        Id = (string)doc["id"]!;
        Selectors = doc["entities"] is JsonArray entities
            ? [.. entities.Select(e => new SubscriptionSelector(
                TypeSelection.Parse((string)e!["type"]!),
                (string?)e["id"],
                e["idPattern"] is { } p ? new Regex((string)p!, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)) : null))]
            : [];
        Watched = doc["watchedAttributes"] is JsonArray watched ? watched.Select(w => (string)w!).ToHashSet(StringComparer.Ordinal) : null;
        Triggers = (doc["notificationTrigger"] as JsonArray)?.Select(t => (string)t!).ToHashSet(StringComparer.Ordinal)
            ?? SubscriptionInput.DefaultTriggers.ToHashSet(StringComparer.Ordinal);
        Q = doc["q"] is { } q ? SubscriptionInput.ParseQ((string)q!) : null;
        ScopeQ = doc["scopeQ"] is { } s ? ScopeQuery.Parse((string)s!) : null;
        Geo = doc["geoQ"] is JsonObject g ? GeoQuery.FromJson(g) : null;
        IsActive = doc["isActive"] is not JsonValue active || active.GetValue<bool>();
        ExpiresAt = doc["expiresAt"] is { } e2 ? DateTimeOffset.Parse((string)e2!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
        Throttling = doc["throttling"] is { } t2 ? t2.GetValue<double>() : null;
        TimeInterval = doc["timeInterval"] is { } i ? i.GetValue<double>() : null;
        var notification = doc["notification"]!.AsObject();
        Endpoint = notification["endpoint"]!.AsObject();
        ShowChanges = notification["showChanges"] is JsonValue sc && sc.GetValue<bool>();
        Accept = (string?)Endpoint["accept"] ?? "application/json";
        Representation = RepresentationOf(notification, doc["lang"] is { } lang ? (string?)lang : null, doc["datasetId"] as JsonArray);
        // The type index: the expanded types a change must have for this subscription to care, or null when a
        // selector is not a plain disjunction of types (or there are no selectors: watchedAttributes alone).
        var simple = Selectors.Select(x => x.Type.SimpleTypes(JsonLdContext.Core)).ToList();
        IndexTypes = simple.Count > 0 && simple.All(x => x is not null) ? [.. simple.SelectMany(x => x!).Distinct()] : null;
    }

    public JsonObject Doc { get; }
    public string Id { get; }
    public JsonLdContext Context { get; }
    public JsonLdContext QueryContext { get; }
    public IReadOnlyList<SubscriptionSelector> Selectors { get; }
    public IReadOnlySet<string>? Watched { get; }
    public IReadOnlySet<string> Triggers { get; }
    public QExpression? Q { get; }
    public ScopeQuery? ScopeQ { get; }
    public GeoQuery? Geo { get; }
    public bool IsActive { get; }
    public DateTimeOffset? ExpiresAt { get; }
    public double? Throttling { get; }
    public double? TimeInterval { get; }
    public JsonObject Endpoint { get; }
    public string Accept { get; }
    public bool ShowChanges { get; }
    public Representation Representation { get; }
    public IReadOnlyList<string>? IndexTypes { get; }

    /// The @context notifications are in: the client's jsonldContext, else the one the subscription was made in.
    public string JsonLdContextUrl => ContextUrlOf(Doc);

    public static string ContextUrlOf(JsonObject doc) =>
        (string?)doc["jsonldContext"] ?? (string?)doc[SubscriptionsApi.DefaultContext] ?? JsonLdContext.CoreUrl;

    public static Subscription Of(JsonObject doc, JsonLdContext context, JsonLdContext queryContext) => new(doc, context, queryContext);

    public bool LiveAt(DateTimeOffset now) => IsActive && (ExpiresAt is null || ExpiresAt > now);

    /// Whether an entity (stored form) is selected by entities, q, scopeQ and geoQ.
    public bool Selects(JsonObject entity)
    {
        if (Selectors.Count > 0)
        {
            var id = (string)entity["id"]!;
            var types = entity["type"]!.AsArray().Select(t => (string)t!).ToHashSet(StringComparer.Ordinal);
            if (!Selectors.Any(s => (s.Id is null || s.Id == id) && (s.IdPattern is null || SafeMatch(s.IdPattern, id)) && s.Type.Matches(types, JsonLdContext.Core)))
            {
                return false;
            }
        }
        if (Q is not null && !Q.Matches(entity, QueryContext))
        {
            return false;
        }
        if (ScopeQ is not null && !(entity["scope"] is JsonArray scopes && ScopeQ.Matches(scopes.Select(x => (string)x!))))
        {
            return false;
        }
        if (Geo is { } geo)
        {
            var iri = geo.GeoProperty;
            return entity[iri] is JsonArray instances
                && instances.OfType<JsonObject>().Any(i => (string?)i["type"] == "GeoProperty" && i["value"] is JsonObject geometry && geo.Matches(geometry));
        }
        return true;
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

    private static Representation RepresentationOf(JsonObject notification, string? lang, JsonArray? datasetIds)
    {
        var format = (string?)notification["format"] switch
        {
            "keyValues" or "simplified" => Format.KeyValues,
            "concise" => Format.Concise,
            _ => Format.Normalized,
        };
        var sysAttrs = notification["sysAttrs"] is JsonValue s && s.GetValue<bool>();
        HashSet<string>? pick = null;
        HashSet<string>? omit = null;
        if (notification["attributes"] is JsonArray { Count: > 0 } attributes)
        {
            pick = ["id", "type", "scope", .. attributes.Select(a => (string)a!)];
        }
        else
        {
            pick = notification["pick"] is JsonArray p ? [.. p.Select(a => (string)a!)] : null;
            omit = notification["omit"] is JsonArray o ? [.. o.Select(a => (string)a!)] : null;
        }
        var join = (string?)notification["join"] switch
        {
            "flat" => Join.Flat,
            "inline" => Join.Inline,
            _ => Join.None,
        };
        var joinLevel = notification["joinLevel"] is JsonValue level ? level.GetValue<int>() : 1;
        return new Representation(
            format, sysAttrs, pick, omit, lang is null ? null : LanguagePreference.Parse(lang), join, joinLevel,
            datasetIds is null ? null : datasetIds.Select(d => (string)d!).ToHashSet(StringComparer.Ordinal));
    }
}
