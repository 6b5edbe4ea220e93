using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Agora.Federation;

/// The attributes of one entity a context source holds for a request: all of them, or those named.
internal sealed record Claim(bool All, IReadOnlySet<string> Attributes)
{
    public static readonly Claim Everything = new(true, new HashSet<string>());

    public bool Covers(string attribute) => All || Attributes.Contains(attribute);

    /// The attributes asked for that the source holds; null when it holds none of them.
    public IReadOnlyList<string>? Within(IReadOnlyCollection<string> asked) =>
        All ? [.. asked] : asked.Where(Attributes.Contains).ToList() is { Count: > 0 } some ? some : null;
}

/// A stored context source registration (clause 5.2.9) compiled for distributed operations: where the source is,
/// how it is to be asked (mode, operations, tenant, headers, timeout) and what it holds.
internal sealed class ContextSource
{
    // Clause 4.20, table 4.20-2 (V1.9.1): the operations each group stands for. federationOps is the default.
    private static readonly Dictionary<string, string[]> Groups = new(StringComparer.Ordinal)
    {
        ["federationOps"] =
        [
            "retrieveEntity", "queryEntity", "queryBatch", "retrieveEntityTypes", "retrieveEntityTypeDetails", "retrieveEntityTypeInfo",
            "retrieveAttrTypes", "retrieveAttrTypeDetails", "retrieveAttrTypeInfo", "createSubscription", "updateSubscription",
            "retrieveSubscription", "querySubscription", "deleteSubscription",
        ],
        ["updateOps"] = ["updateEntity", "updateAttrs", "replaceEntity", "replaceAttrs"],
        ["retrieveOps"] = ["retrieveEntity", "queryEntity"],
        ["redirectionOps"] =
        [
            "createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs", "deleteEntity", "mergeEntity", "replaceEntity",
            "replaceAttrs", "retrieveEntity", "queryEntity", "purgeEntity", "retrieveEntityTypes", "retrieveEntityTypeDetails",
            "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails", "retrieveAttrTypeInfo",
        ],
    };

    private readonly HashSet<string> _operations;
    private readonly List<Info> _information;

    private sealed record EntityInfo(string Type, string? Id, Regex? IdPattern);

    private sealed record Info(IReadOnlyList<EntityInfo>? Entities, IReadOnlySet<string>? Attributes);

    public ContextSource(JsonObject doc)
    {
        Id = (string)doc["id"]!;
        Endpoint = ((string)doc["endpoint"]!).TrimEnd('/');
        Mode = (string?)doc["mode"] ?? "inclusive";
        Tenant = (string?)doc["tenant"];
        Alias = (string?)doc["contextSourceAlias"];
        ExpiresAt = doc["expiresAt"] is JsonValue e && DateTimeOffset.TryParse((string?)e, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
        Headers = (doc["contextSourceInfo"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(kv => KeyValuePair.Create((string)kv["key"]!, (string)kv["value"]!)).ToList();
        var management = doc["management"] as JsonObject;
        // At most five minutes: a source that takes longer is as good as absent.
        Timeout = management?["timeout"] is JsonValue t && t.TryGetValue<double>(out var ms) ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 1, 300_000)) : null;
        LocalOnly = management?["localOnly"] is JsonValue l && l.TryGetValue<bool>(out var local) && local;
        var operations = doc["operations"] is JsonArray ops ? ops.Select(o => (string)o!) : ["federationOps"];
        _operations = [.. operations.SelectMany(o => Groups.TryGetValue(o, out var members) ? members : [o])];
        _information = [.. doc["information"]!.AsArray().OfType<JsonObject>().Select(ReadInfo)];
    }

    public string Id { get; }

    /// The source's API root without a trailing slash; /ngsi-ld/v1/... is appended to it.
    public string Endpoint { get; }

    public string Mode { get; }

    public string? Tenant { get; }

    /// The source's own identity (contextSourceAlias), as it names itself in Via headers.
    public string? Alias { get; }

    public DateTimeOffset? ExpiresAt { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    public TimeSpan? Timeout { get; }

    public bool LocalOnly { get; }

    /// Exclusive and redirect sources hold their attributes instead of this broker (clause 4.3.6.3).
    public bool Proxied => Mode is "exclusive" or "redirect";

    public bool Auxiliary => Mode == "auxiliary";

    public bool Supports(string operation) => _operations.Contains(operation);

    /// What the source holds of one entity, given its id and (when known) its expanded types; null when no
    /// RegistrationInfo covers it. Without known types, any registered type is taken to match.
    public Claim? ClaimOf(string id, IReadOnlyCollection<string>? types)
    {
        Claim? claim = null;
        foreach (var info in _information)
        {
            if (info.Entities is { } entities && !entities.Any(e => Matches(e, id, types)))
            {
                continue;
            }
            claim = Union(claim, info.Attributes);
        }
        return claim;
    }

    /// The registered type of the entity with this id (the first that matches), for a source that must be
    /// asked by type.
    public string? TypeOf(string id, IReadOnlyCollection<string>? types) =>
        _information.SelectMany(i => i.Entities ?? []).FirstOrDefault(e => Matches(e, id, types))?.Type;

    /// What the source may hold for a query: entities of one of the types (any, when null), with one of the
    /// attributes (any, when empty); null when no RegistrationInfo could supply such entities.
    public Claim? ClaimOfQuery(IReadOnlyCollection<string>? types, IReadOnlyCollection<string> attributes)
    {
        Claim? claim = null;
        foreach (var info in _information)
        {
            if (types is not null && info.Entities is { } entities && !entities.Any(e => types.Contains(e.Type)))
            {
                continue;
            }
            if (attributes.Count > 0 && info.Attributes is { } held && !attributes.Any(held.Contains))
            {
                continue;
            }
            claim = Union(claim, info.Attributes);
        }
        return claim;
    }

    /// The ids this source registers for the types asked (null when any id of them may be held).
    public IReadOnlyList<string>? RegisteredIds(IReadOnlyCollection<string>? types)
    {
        var ids = new List<string>();
        foreach (var info in _information)
        {
            foreach (var entity in info.Entities ?? [])
            {
                if (types is not null && !types.Contains(entity.Type))
                {
                    continue;
                }
                if (entity.Id is null)
                {
                    return null;
                }
                ids.Add(entity.Id);
            }
            if (info.Entities is null)
            {
                return null;
            }
        }
        return ids;
    }

    private static Claim Union(Claim? claim, IReadOnlySet<string>? attributes)
    {
        if (attributes is null || claim is { All: true })
        {
            return Claim.Everything;
        }
        return new Claim(false, claim is null ? attributes : new HashSet<string>(claim.Attributes.Concat(attributes), StringComparer.Ordinal));
    }

    private static bool Matches(EntityInfo e, string id, IReadOnlyCollection<string>? types)
    {
        if (types is not null && !types.Contains(e.Type))
        {
            return false;
        }
        if (e.Id is not null)
        {
            return e.Id == id;
        }
        if (e.IdPattern is not null)
        {
            try
            {
                return e.IdPattern.IsMatch(id);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }
        return true;
    }

    private static Info ReadInfo(JsonObject info)
    {
        var entities = info["entities"] is JsonArray list
            ? list.OfType<JsonObject>().Select(e => new EntityInfo(
                (string)e["type"]!,
                (string?)e["id"],
                e["idPattern"] is JsonValue p ? new Regex((string)p!, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)) : null)).ToList()
            : null;
        var names = new[] { info["propertyNames"], info["relationshipNames"] }.OfType<JsonArray>().SelectMany(a => a).Select(n => (string)n!).ToList();
        return new Info(entities, names.Count > 0 ? names.ToHashSet(StringComparer.Ordinal) : null);
    }
}
