using System.Text.Json.Nodes;

namespace Agora.Discovery;

/// What a caller may discover when it is less than the whole tenant (a key of a market agreement): the entity
/// types and attributes it may see and, when it sees only some entities of a type (an area, an id pattern), which
/// entities. Set as a request feature before discovery runs; absent, all are visible.
internal sealed record DiscoveryScope(Func<string, bool> Type, Func<string, bool> Attribute, Func<JsonObject, bool>? Entity = null);

/// Discovery taken from the entities a scope sees, for a scope that sees only some entities of its types: the
/// names, and the counts of entityCount and attributeCount, are those of the visible entities, not of every
/// entity the discovery tables index.
internal sealed class ScopedDiscovery
{
    private sealed record Seen(IReadOnlyList<string> Types, Dictionary<string, HashSet<string>> Attributes);

    private readonly List<Seen> _entities = [];

    public ScopedDiscovery(IEnumerable<JsonObject> candidates, DiscoveryScope scope)
    {
        foreach (var doc in candidates)
        {
            var types = (doc["type"] as JsonArray ?? []).Select(t => (string?)t).OfType<string>().Where(scope.Type).ToList();
            if (types.Count == 0 || !scope.Entity!(doc))
            {
                continue;
            }
            var attributes = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var (name, value) in doc)
            {
                if (Federation.EntityMerge.IsAttribute(name) && scope.Attribute(name) && value is JsonArray instances)
                {
                    attributes[name] = [.. instances.OfType<JsonObject>().Select(i => (string?)i["type"] ?? "Property")];
                }
            }
            _entities.Add(new Seen(types, attributes));
        }
    }

    public IEnumerable<string> Types => _entities.SelectMany(e => e.Types).Distinct().Order(StringComparer.Ordinal);

    public IEnumerable<string> Attributes => _entities.SelectMany(e => e.Attributes.Keys).Distinct().Order(StringComparer.Ordinal);

    public long EntityCount(string type) => _entities.Count(e => e.Types.Contains(type));

    public IEnumerable<string> AttributesOf(string type) =>
        _entities.Where(e => e.Types.Contains(type)).SelectMany(e => e.Attributes.Keys).Distinct();

    public IEnumerable<(string Attribute, string AttributeType)> AttributeDetails(string type) =>
        _entities.Where(e => e.Types.Contains(type)).SelectMany(e => e.Attributes.SelectMany(a => a.Value.Select(t => (a.Key, t)))).Distinct();

    public long AttributeCount(string attribute) => _entities.Count(e => e.Attributes.ContainsKey(attribute));

    public IEnumerable<string> AttributeTypes(string attribute) =>
        _entities.SelectMany(e => e.Attributes.TryGetValue(attribute, out var types) ? types : []).Distinct().Order(StringComparer.Ordinal);

    public IEnumerable<string> TypesHaving(string attribute) =>
        _entities.Where(e => e.Attributes.ContainsKey(attribute)).SelectMany(e => e.Types).Distinct().Order(StringComparer.Ordinal);
}
