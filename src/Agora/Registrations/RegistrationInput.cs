using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Entities;
using Agora.Geo;
using Agora.JsonLd;
using Agora.Subscriptions;
using Agora.Temporal;
using EntityNames = Agora.Entities.Names;

namespace Agora.Registrations;

/// Turns a client's CSourceRegistration (clause 5.2.9) or a fragment of one into Agora's stored form: the same
/// shape with entity types, attribute names and the names of extra properties expanded, so that a reader in
/// any other @context sees them in its own terms. Every violation is BadRequestData naming the member.
internal sealed class RegistrationInput(JsonLdContext context)
{
    public const string Type = "ContextSourceRegistration";

    public static readonly string[] Modes = ["inclusive", "exclusive", "redirect", "auxiliary"];

    // Clause 4.20: the operations a context source may be registered for, and the groups that stand for several.
    public static readonly string[] Operations =
    [
        "createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs", "deleteEntity", "createBatch", "upsertBatch",
        "updateBatch", "deleteBatch", "upsertTemporal", "appendAttrsTemporal", "deleteAttrsTemporal", "updateAttrsTemporal",
        "deleteAttrInstanceTemporal", "deleteTemporal", "mergeEntity", "replaceEntity", "replaceAttrs", "mergeBatch",
        "retrieveEntity", "queryEntity", "queryBatch", "retrieveTemporal", "queryTemporal", "retrieveEntityTypes",
        "retrieveEntityTypeDetails", "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails",
        "retrieveAttrTypeInfo", "createSubscription", "updateSubscription", "retrieveSubscription", "querySubscription",
        "deleteSubscription", "queryEntityMap", "createEntityMap", "updateEntityMap", "deleteEntityMap", "retrieveEntityMap",
        "federationOps", "updateOps", "retrieveOps", "redirectionOps",
    ];

    /// The members of clause 5.2.9 this class checks one by one; any other member is an extra property.
    public static readonly string[] Known =
    [
        "id", "type", "registrationName", "description", "information", "tenant", "observationInterval", "managementInterval",
        "location", "observationSpace", "operationSpace", "expiresAt", "endpoint", "contextSourceInfo", "scope", "mode",
        "operations", "refreshRate", "management",
    ];

    /// Written by the broker alone: a client's values are ignored.
    public static readonly string[] System =
        ["createdAt", "modifiedAt", "status", "timesSent", "timesFailed", "lastSuccess", "lastFailure"];

    public static readonly string[] GeoMembers = ["location", "observationSpace", "operationSpace"];

    private static readonly string[] Mandatory = ["id", "type", "information", "endpoint"];

    public JsonObject Registration(JsonObject body, DateTimeOffset now)
    {
        if (body["type"] is null)
        {
            throw Bad("type", $"it is missing; a registration has \"type\": \"{Type}\".");
        }
        var doc = new JsonObject();
        foreach (var (name, value) in body)
        {
            Put(doc, name, value, now);
        }
        Check(doc);
        return doc;
    }

    /// Applies a fragment to a stored registration (each given member replaces the stored one; null removes an
    /// optional member), then checks the whole.
    public void Merge(JsonObject doc, JsonObject fragment, DateTimeOffset now)
    {
        foreach (var (name, value) in fragment)
        {
            if (name is "id" or "type")
            {
                if (value is null || (name == "type" && (string?)Scalar(value) != Type) || (name == "id" && (string?)Scalar(value) != (string?)doc["id"]))
                {
                    throw Bad(name, "the id and type of a registration cannot be changed or removed.");
                }
                continue;
            }
            if (value is null)
            {
                if (Mandatory.Contains(name))
                {
                    throw Bad(name, "it is mandatory and cannot be removed.");
                }
                doc.Remove(Known.Contains(name) ? name : ExtraName(name));
                continue;
            }
            Put(doc, name, value, now);
        }
        Check(doc);
    }

    private void Put(JsonObject doc, string name, JsonNode? value, DateTimeOffset now)
    {
        if (System.Contains(name))
        {
            return;
        }
        if (Known.Contains(name))
        {
            if (value is not null)
            {
                doc[name] = Member(name, value, now);
            }
            return;
        }
        doc[ExtraName(name)] = value?.DeepClone();
    }

    private JsonNode Member(string name, JsonNode value, DateTimeOffset now)
    {
        switch (name)
        {
            case "id":
                var id = SubscriptionInput.Text(value, "id");
                return EntityNames.IsUri(id) ? id : throw Bad("id", $"'{EntityNames.Shorten(id)}' is not a URI.");
            case "type":
                return SubscriptionInput.Text(value, "type") == Type ? Type : throw Bad("type", $"it must be \"{Type}\".");
            case "registrationName" or "description" or "tenant":
                return SubscriptionInput.Text(value, name);
            case "information":
                return Information(value);
            case "observationInterval" or "managementInterval":
                return Interval(value, name);
            case "location" or "observationSpace" or "operationSpace":
                var geometry = value as JsonObject ?? throw Bad(name, "it must be a GeoJSON geometry object.");
                string? error = null;
                return GeoJson.Read(geometry, ref error) is not null ? geometry.DeepClone() : throw Bad(name, $"it is not a valid GeoJSON geometry: {error}");
            case "expiresAt":
                var at = DateTime(value, "expiresAt");
                return at > now ? value.DeepClone() : throw Bad("expiresAt", $"{value} is in the past; a registration must expire in the future.");
            case "endpoint":
                var uri = SubscriptionInput.Text(value, "endpoint");
                return Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
                    ? uri
                    : throw Bad("endpoint", $"'{EntityNames.Shorten(uri)}' is not an absolute http or https URI.");
            case "contextSourceInfo":
                var pairs = value as JsonArray ?? throw Bad(name, "it must be an array of {\"key\", \"value\"} objects.");
                foreach (var pair in pairs)
                {
                    if (pair is not JsonObject { Count: 2 } kv || kv["key"] is not JsonValue k || !k.TryGetValue<string>(out _) || kv["value"] is not JsonValue v || !v.TryGetValue<string>(out _))
                    {
                        throw Bad(name, "each item must be an object with a string key and a string value.");
                    }
                }
                return pairs.DeepClone();
            case "scope":
                var scopes = value is JsonArray ? SubscriptionInput.StringList(value, "scope", nonEmpty: true) : [SubscriptionInput.Text(value, "scope")];
                foreach (var s in scopes.Where(s => !EntityNames.IsScope(s)))
                {
                    throw Bad("scope", $"'{EntityNames.Shorten(s)}' is not a scope such as /Madrid/Gardens.");
                }
                return value.DeepClone();
            case "mode":
                var mode = SubscriptionInput.Text(value, "mode");
                return Modes.Contains(mode) ? mode : throw Bad("mode", $"'{EntityNames.Shorten(mode)}' is not one of {string.Join(", ", Modes)}.");
            case "operations":
                var operations = SubscriptionInput.StringList(value, "operations", nonEmpty: true);
                foreach (var o in operations.Where(o => !Operations.Contains(o)))
                {
                    throw Bad("operations", $"'{EntityNames.Shorten(o)}' is not an NGSI-LD operation or operation group (clause 4.20).");
                }
                return new JsonArray([.. operations.Distinct().Select(o => (JsonNode?)o)]);
            case "refreshRate":
                return Duration(value, "refreshRate");
            case "management":
                return Management(value);
            default:
                throw new InvalidOperationException(name);
        }
    }

    private JsonArray Information(JsonNode value)
    {
        if (value is not JsonArray { Count: > 0 } list)
        {
            throw Bad("information", "it must be a non-empty array of RegistrationInfo objects.");
        }
        var result = new JsonArray();
        foreach (var item in list)
        {
            if (item is not JsonObject info)
            {
                throw Bad("information", "each RegistrationInfo must be an object.");
            }
            var stored = new JsonObject();
            foreach (var (name, member) in info)
            {
                stored[name] = name switch
                {
                    "entities" => Entities(member),
                    "propertyNames" or "relationshipNames" => Names(member, "information." + name),
                    _ => throw Bad("information", $"'{EntityNames.Shorten(name)}' is not a member of RegistrationInfo (entities, propertyNames, relationshipNames)."),
                };
            }
            if (stored.Count == 0)
            {
                throw Bad("information", "a RegistrationInfo needs entities, propertyNames or relationshipNames.");
            }
            result.Add(stored);
        }
        return result;
    }

    private JsonArray Entities(JsonNode? value)
    {
        const string Field = "information.entities";
        if (value is not JsonArray { Count: > 0 } list)
        {
            throw Bad(Field, "it must be a non-empty array of EntityInfo objects.");
        }
        var result = new JsonArray();
        foreach (var item in list)
        {
            if (item is not JsonObject entity)
            {
                throw Bad(Field, "each EntityInfo must be an object.");
            }
            var stored = new JsonObject();
            if (entity["type"] is null)
            {
                throw Bad(Field + ".type", "every EntityInfo needs a type.");
            }
            var type = SubscriptionInput.Text(entity["type"], Field + ".type");
            stored["type"] = EntityNames.IsName(type) || EntityNames.IsUri(type) ? context.ExpandTerm(type) : throw Bad(Field + ".type", $"'{EntityNames.Shorten(type)}' is not an entity type name.");
            if (entity["id"] is { } idNode)
            {
                var id = SubscriptionInput.Text(idNode, Field + ".id");
                stored["id"] = EntityNames.IsUri(id) ? id : throw Bad(Field + ".id", $"'{EntityNames.Shorten(id)}' is not a URI.");
            }
            if (entity["idPattern"] is { } patternNode)
            {
                var pattern = SubscriptionInput.Text(patternNode, Field + ".idPattern");
                try
                {
                    _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromMilliseconds(50));
                }
                catch (ArgumentException e)
                {
                    throw Bad(Field + ".idPattern", $"'{EntityNames.Shorten(pattern)}' is not a regular expression: {e.Message}");
                }
                stored["idPattern"] = pattern;
            }
            result.Add(stored);
        }
        return result;
    }

    private JsonArray Names(JsonNode? value, string field) =>
        new([.. SubscriptionInput.StringList(value, field, nonEmpty: true).Select(n => (JsonNode?)AttributeName(n, field)).DistinctBy(n => (string?)n)]);

    private string AttributeName(string name, string field) =>
        name is "id" or "type" or "scope" or "@id" or "@type" || !(EntityNames.IsName(name) || EntityNames.IsUri(name))
            ? throw Bad(field, $"'{EntityNames.Shorten(name)}' is not an attribute name.")
            : context.ExpandTerm(name);

    private string ExtraName(string name) => name.StartsWith('@') ? throw Bad(name, "JSON-LD keywords are not members of a registration.") : AttributeName(name, name);

    private static JsonObject Interval(JsonNode value, string field)
    {
        var interval = value as JsonObject ?? throw Bad(field, "it must be an object with startAt and, optionally, endAt.");
        var start = DateTime(interval["startAt"] ?? throw Bad(field + ".startAt", "it is missing."), field + ".startAt");
        if (interval["endAt"] is { } endNode && DateTime(endNode, field + ".endAt") <= start)
        {
            throw Bad(field + ".endAt", "it must be later than startAt.");
        }
        foreach (var (name, _) in interval)
        {
            if (name is not ("startAt" or "endAt"))
            {
                throw Bad(field, $"'{EntityNames.Shorten(name)}' is not a member of a time interval (startAt, endAt).");
            }
        }
        return interval.DeepClone().AsObject();
    }

    private static JsonObject Management(JsonNode value)
    {
        var management = value as JsonObject ?? throw Bad("management", "it must be an object.");
        foreach (var (name, member) in management)
        {
            var field = "management." + name;
            switch (name)
            {
                case "localOnly":
                    _ = member is JsonValue b && b.TryGetValue<bool>(out _) ? 0 : throw Bad(field, "it must be true or false.");
                    break;
                case "cacheDuration":
                    Duration(member, field);
                    break;
                case "timeout" or "cooldown":
                    _ = member is JsonValue n && n.TryGetValue<double>(out var ms) && ms > 0 && double.IsFinite(ms) ? 0 : throw Bad(field, "it must be a number of milliseconds greater than 0.");
                    break;
                default:
                    throw Bad("management", $"'{EntityNames.Shorten(name)}' is not one of localOnly, cacheDuration, timeout, cooldown.");
            }
        }
        return management.DeepClone().AsObject();
    }

    private static string Duration(JsonNode? value, string field)
    {
        var text = SubscriptionInput.Text(value, field);
        return IsoDuration.TryParse(text, out _) ? text : throw Bad(field, $"'{EntityNames.Shorten(text)}' is not an ISO 8601 duration such as PT10S.");
    }

    private static DateTimeOffset DateTime(JsonNode value, string field)
    {
        var text = SubscriptionInput.Text(value, field);
        return EntityInput.IsDateTime(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw Bad(field, $"'{EntityNames.Shorten(text)}' is not a date-time such as 2030-01-31T12:00:00Z.");
    }

    private static JsonNode? Scalar(JsonNode value) => value is JsonValue ? value : null;

    /// The rules between members, checked on the whole registration after a create or a merge.
    private static void Check(JsonObject doc)
    {
        if (doc["information"] is null)
        {
            throw Bad("information", "it is missing; a registration needs a non-empty array of RegistrationInfo.");
        }
        if (doc["endpoint"] is null)
        {
            throw Bad("endpoint", "it is missing; a registration needs the URI of its context source.");
        }
        if ((string?)doc["mode"] == "exclusive")
        {
            // Clause 4.3.6.3: what an exclusive source holds must be singled out, entity by entity and attribute by attribute.
            foreach (var info in doc["information"]!.AsArray().OfType<JsonObject>())
            {
                if (info["propertyNames"] is null && info["relationshipNames"] is null)
                {
                    throw Bad("information", "an exclusive registration must name its attributes (propertyNames or relationshipNames) in every RegistrationInfo.");
                }
                if (info["entities"] is not JsonArray entities || entities.Any(e => e!["id"] is null && e["idPattern"] is null))
                {
                    throw Bad("information.entities", "an exclusive registration must name the entities it holds (id, or idPattern) in every RegistrationInfo.");
                }
            }
        }
    }

    private static Errors.NgsiLdException Bad(string field, string why) => SubscriptionInput.Bad(field, why);
}
