using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Entities;
using Agora.Errors;
using Agora.Geo;
using Agora.JsonLd;
using Agora.Query;
using EntityNames = Agora.Entities.Names;

namespace Agora.Subscriptions;

/// Turns a client's Subscription (clause 5.2.12) or a fragment of one into Agora's stored form: the same shape,
/// with every type and attribute name expanded, so that any other @context reads it back in its own terms.
/// q and scopeQ keep their text; q is evaluated with the context the subscription was written in (queryContext).
/// Every violation is BadRequestData naming the member.
internal sealed class SubscriptionInput(JsonLdContext context)
{
    public static readonly string[] Triggers =
        ["entityCreated", "entityUpdated", "entityDeleted", "attributeCreated", "attributeUpdated", "attributeDeleted"];

    public static readonly string[] DefaultTriggers = ["attributeCreated", "attributeUpdated"];

    // Members kept as the client wrote them besides those handled one by one below.
    private static readonly string[] Known =
    [
        "id", "type", "subscriptionName", "description", "entities", "watchedAttributes", "notificationTrigger", "q", "geoQ",
        "scopeQ", "lang", "csf", "isActive", "expiresAt", "throttling", "timeInterval", "notification", "jsonldContext",
        "datasetId", "temporalQ",
    ];

    /// The members a fragment may not remove.
    private static readonly string[] Mandatory = ["id", "type", "notification"];

    /// The stored form of a whole subscription. jsonldContext is checked and kept by the caller.
    public JsonObject Subscription(JsonObject body, DateTimeOffset now)
    {
        var doc = new JsonObject();
        if (body["type"] is null)
        {
            throw Bad("type", "it is missing; a subscription has \"type\": \"Subscription\".");
        }
        foreach (var (name, value) in body)
        {
            if (Known.Contains(name))
            {
                doc[name] = Member(name, value, now);
            }
        }
        Check(doc);
        return doc;
    }

    /// Applies a fragment (merge-patch semantics: null removes) to a stored subscription, then checks the whole.
    public void Merge(JsonObject doc, JsonObject fragment, DateTimeOffset now)
    {
        foreach (var (name, value) in fragment)
        {
            if (name is "id" or "type")
            {
                if (value is null || (name == "type" && (string?)value != "Subscription") || (name == "id" && (string?)value != (string?)doc["id"]))
                {
                    throw Bad(name, "the id and type of a subscription cannot be changed or removed.");
                }
                continue;
            }
            if (!Known.Contains(name))
            {
                continue;
            }
            if (value is null)
            {
                if (Mandatory.Contains(name))
                {
                    throw Bad(name, "it is mandatory and cannot be removed.");
                }
                doc.Remove(name);
                continue;
            }
            // A fragment's notification replaces the whole member, as every other term of the fragment does
            // (clause 5.8.2), so it must be complete: an endpoint-less one is BadRequestData (ETSI 029_03).
            doc[name] = Member(name, value, now);
        }
        Check(doc);
    }

    private JsonNode? Member(string name, JsonNode? value, DateTimeOffset now)
    {
        switch (name)
        {
            case "id":
                var id = Text(value, "id");
                if (!EntityNames.IsUri(id))
                {
                    throw Bad("id", $"'{EntityNames.Shorten(id)}' is not a URI.");
                }
                return id;
            case "type":
                return Text(value, "type") == "Subscription" ? "Subscription" : throw Bad("type", "it must be \"Subscription\".");
            case "subscriptionName" or "description":
                return Text(value, name);
            case "lang":
                var lang = Text(value, "lang");
                Guard("lang", () => LanguagePreference.Parse(lang));
                return lang;
            case "entities":
                return Entities(value);
            case "watchedAttributes":
                return ExpandedNames(value, "watchedAttributes", nonEmpty: true);
            case "notificationTrigger":
                var triggers = StringList(value, "notificationTrigger", nonEmpty: true);
                foreach (var t in triggers.Where(t => !Triggers.Contains(t)))
                {
                    throw Bad("notificationTrigger", $"'{EntityNames.Shorten(t)}' is not one of {string.Join(", ", Triggers)}.");
                }
                return new JsonArray([.. triggers.Distinct().Select(t => (JsonNode?)t)]);
            case "q":
                var q = Text(value, "q");
                Guard("q", () => ParseQ(q));
                return q;
            case "scopeQ":
                var scopeQ = Text(value, "scopeQ");
                Guard("scopeQ", () => ScopeQuery.Parse(scopeQ));
                return scopeQ;
            case "geoQ":
                var geo = Guard("geoQ", () => GeoQuery.FromJson(value as JsonObject ?? throw Bad("geoQ", "it must be an object.")));
                var json = geo.ToJson();
                json["geoproperty"] = Expand(geo.GeoProperty, "geoQ.geoproperty");
                return json;
            case "csf":
                return value?.DeepClone();
            case "temporalQ":
                return value is JsonObject ? value.DeepClone() : throw Bad("temporalQ", "it must be an object.");
            case "isActive":
                return value is JsonValue b && b.TryGetValue<bool>(out var active) ? active : throw Bad("isActive", "it must be true or false.");
            case "expiresAt":
                var at = Text(value, "expiresAt");
                if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires) || !EntityInput.IsDateTime(at))
                {
                    throw Bad("expiresAt", $"'{EntityNames.Shorten(at)}' is not a date-time.");
                }
                return expires > now ? at : throw Bad("expiresAt", $"{at} is in the past; a subscription must expire in the future.");
            case "throttling" or "timeInterval":
                return value is JsonValue n && n.TryGetValue<double>(out var seconds) && seconds > 0 && double.IsFinite(seconds)
                    ? value.DeepClone()
                    : throw Bad(name, "it must be a number of seconds greater than 0.");
            case "notification":
                var notification = value as JsonObject ?? throw Bad("notification", "it must be an object.");
                var result = new JsonObject();
                foreach (var (member, v) in notification)
                {
                    if (v is not null)
                    {
                        result[member] = NotificationMember(member, v);
                    }
                }
                return result;
            case "jsonldContext":
                var url = Text(value, "jsonldContext");
                return Uri.TryCreate(url, UriKind.Absolute, out _) ? url : throw Bad("jsonldContext", $"'{EntityNames.Shorten(url)}' is not an absolute URI.");
            case "datasetId":
                var ids = StringList(value, "datasetId", nonEmpty: true);
                foreach (var d in ids.Where(d => d != Representation.DefaultInstance && !EntityNames.IsUri(d)))
                {
                    throw Bad("datasetId", $"'{EntityNames.Shorten(d)}' is not a URI.");
                }
                return new JsonArray([.. ids.Select(d => (JsonNode?)d)]);
            default:
                return value?.DeepClone();
        }
    }

    private JsonArray Entities(JsonNode? value)
    {
        if (value is not JsonArray { Count: > 0 } list)
        {
            throw Bad("entities", "it must be a non-empty array of entity selectors.");
        }
        var result = new JsonArray();
        foreach (var item in list)
        {
            if (item is not JsonObject selector)
            {
                throw Bad("entities", "each entity selector must be an object.");
            }
            var stored = new JsonObject();
            if (selector["type"] is null)
            {
                throw Bad("entities.type", "every entity selector needs a type.");
            }
            var type = Text(selector["type"], "entities.type");
            var selection = Guard("entities.type", () => TypeSelection.Parse(type));
            stored["type"] = TypeSelections.Map(selection.Root, context.ExpandTerm);
            if (selector["id"] is { } idNode)
            {
                var id = Text(idNode, "entities.id");
                stored["id"] = EntityNames.IsUri(id) ? id : throw Bad("entities.id", $"'{EntityNames.Shorten(id)}' is not a URI.");
            }
            if (selector["idPattern"] is { } patternNode)
            {
                var pattern = Text(patternNode, "entities.idPattern");
                try
                {
                    _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(50));
                }
                catch (ArgumentException e)
                {
                    throw Bad("entities.idPattern", $"'{EntityNames.Shorten(pattern)}' is not a regular expression: {e.Message}");
                }
                stored["idPattern"] = pattern;
            }
            result.Add(stored);
        }
        return result;
    }

    private JsonNode NotificationMember(string member, JsonNode value)
    {
        var field = "notification." + member;
        switch (member)
        {
            case "attributes":
                return ExpandedNames(value, field, nonEmpty: false);
            case "pick" or "omit":
                return new JsonArray([.. StringList(value, field, nonEmpty: false).Select(n => (JsonNode?)(n is "id" or "type" or "scope" ? n : Expand(n, field)))]);
            case "sysAttrs" or "showChanges":
                return value is JsonValue b && b.TryGetValue<bool>(out var flag) ? flag : throw Bad(field, "it must be true or false.");
            case "format":
                var format = Text(value, field);
                return format is "normalized" or "keyValues" or "simplified" or "concise"
                    ? format
                    : throw Bad(field, $"'{EntityNames.Shorten(format)}' is not normalized, keyValues (simplified) or concise.");
            case "endpoint":
                return Endpoint(value as JsonObject ?? throw Bad(field, "it must be an object."));
            case "join":
                var join = Text(value, field);
                return join is "flat" or "inline" or "@none" ? join : throw Bad(field, "it must be flat, inline or @none.");
            case "joinLevel":
                return value is JsonValue j && j.TryGetValue<int>(out var level) && level >= 1 ? level : throw Bad(field, "it must be a whole number of at least 1.");
            // Written by the broker as it notifies; a client's values are ignored.
            case "status" or "timesSent" or "timesFailed" or "lastNotification" or "lastSuccess" or "lastFailure":
                return value.DeepClone();
            default:
                return value.DeepClone();
        }
    }

    private static JsonObject Endpoint(JsonObject endpoint)
    {
        var uri = Text(endpoint["uri"] ?? throw Bad("notification.endpoint.uri", "it is missing."), "notification.endpoint.uri");
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https" or "mqtt" or "mqtts"))
        {
            throw Bad("notification.endpoint.uri", $"'{EntityNames.Shorten(uri)}' is not an absolute http, https, mqtt or mqtts URI.");
        }
        var result = new JsonObject { ["uri"] = uri };
        if (endpoint["accept"] is { } acceptNode)
        {
            var accept = Text(acceptNode, "notification.endpoint.accept");
            result["accept"] = accept is "application/json" or "application/ld+json" or "application/geo+json"
                ? accept
                : throw Bad("notification.endpoint.accept", $"'{EntityNames.Shorten(accept)}' is not application/json, application/ld+json or application/geo+json.");
        }
        foreach (var name in new[] { "receiverInfo", "notifierInfo" })
        {
            if (endpoint[name] is null)
            {
                continue;
            }
            var field = "notification.endpoint." + name;
            var pairs = endpoint[name] as JsonArray ?? throw Bad(field, "it must be an array of {\"key\", \"value\"} objects.");
            foreach (var pair in pairs)
            {
                if (pair is not JsonObject { Count: 2 } kv || kv["key"] is not JsonValue k || !k.TryGetValue<string>(out _) || kv["value"] is not JsonValue v || !v.TryGetValue<string>(out _))
                {
                    throw Bad(field, "each item must be an object with a string key and a string value.");
                }
            }
            result[name] = pairs.DeepClone();
        }
        return result;
    }

    /// The rules between members, checked on the whole subscription after a create or a merge.
    private static void Check(JsonObject doc)
    {
        if (doc["notification"] is not JsonObject notification)
        {
            throw Bad("notification", "it is missing; a subscription needs notification parameters with an endpoint.");
        }
        if (notification["endpoint"] is null)
        {
            throw Bad("notification.endpoint", "it is missing.");
        }
        if (doc["entities"] is null && doc["watchedAttributes"] is null)
        {
            throw Bad("entities", "a subscription needs entities or watchedAttributes.");
        }
        if (doc["timeInterval"] is not null)
        {
            if (doc["watchedAttributes"] is not null)
            {
                throw Bad("timeInterval", "it cannot be combined with watchedAttributes.");
            }
            if (doc["throttling"] is not null)
            {
                throw Bad("timeInterval", "it cannot be combined with throttling.");
            }
            if (doc["entities"] is null)
            {
                throw Bad("entities", "a periodic subscription (timeInterval) needs entities.");
            }
        }
        var hasAttributes = notification["attributes"] is JsonArray { Count: > 0 };
        if (hasAttributes && (notification["pick"] is not null || notification["omit"] is not null))
        {
            throw Bad("notification.attributes", "it cannot be combined with notification.pick or notification.omit.");
        }
        if (notification["pick"] is JsonArray pick && notification["omit"] is JsonArray omit
            && pick.Select(p => (string?)p).Intersect(omit.Select(o => (string?)o)).FirstOrDefault() is { } both)
        {
            throw Bad("notification.pick", $"'{both}' is both picked and omitted.");
        }
    }

    private JsonArray ExpandedNames(JsonNode? value, string field, bool nonEmpty) =>
        new([.. StringList(value, field, nonEmpty).Select(n => (JsonNode?)Expand(n, field)).DistinctBy(n => (string?)n)]);

    private string Expand(string name, string field)
    {
        if (name is "id" or "type" or "scope" or "@id" or "@type" || !(EntityNames.IsName(name) || EntityNames.IsUri(name)))
        {
            throw Bad(field, $"'{EntityNames.Shorten(name)}' is not an attribute name.");
        }
        return context.ExpandTerm(name);
    }

    internal static List<string> StringList(JsonNode? value, string field, bool nonEmpty)
    {
        if (value is not JsonArray list || (nonEmpty && list.Count == 0))
        {
            throw Bad(field, nonEmpty ? "it must be a non-empty array of strings." : "it must be an array of strings.");
        }
        return [.. list.Select(item => Text(item, field))];
    }

    internal static string Text(JsonNode? value, string field) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw Bad(field, "it must be a string.");

    private static T Guard<T>(string field, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (NgsiLdException e) when (e.Status == 400)
        {
            throw Bad(field, e.Detail ?? e.Title);
        }
    }

    /// q as a query would take it: a client writes it as it would in a URL, percent-encoding included
    /// (name=="Eiffel%20Tower"), and a URL's query reaches the parser decoded.
    public static QExpression ParseQ(string q) => QExpression.Parse(Uri.UnescapeDataString(q));

    public static NgsiLdException Bad(string field, string why) => NgsiLdException.BadRequest($"Invalid {field}", $"{field}: {why}");
}

/// Type selections with their names mapped (expanded to store, compacted to show).
internal static class TypeSelections
{
    public static string Map(TypeNode node, Func<string, string> map) => Rewrite(node, map).ToString()!;

    private static TypeNode Rewrite(TypeNode node, Func<string, string> map) => node switch
    {
        TypeName n => new TypeName(map(n.Name)),
        TypeAnd and => new TypeAnd([.. and.Operands.Select(o => Rewrite(o, map))]),
        TypeOr or => new TypeOr([.. or.Operands.Select(o => Rewrite(o, map))]),
        _ => node,
    };
}
