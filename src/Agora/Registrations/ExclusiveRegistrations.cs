using System.Text.Json.Nodes;
using Agora.Errors;

namespace Agora.Registrations;

/// Clause 4.3.6.3: an exclusive registration says its source alone holds certain attributes of certain
/// entities, so two exclusive registrations may not claim the same attribute of the same entity.
internal static class ExclusiveRegistrations
{
    /// Conflict (409) when the registration is exclusive and another exclusive one claims an attribute of an
    /// entity it claims. Entities are the same when type and id are, or type and idPattern (as text: whether two
    /// patterns select a common id cannot be decided in general).
    public static void CheckOverlap(JsonObject doc, IEnumerable<JsonObject> others)
    {
        if (!IsExclusive(doc))
        {
            return;
        }
        var id = (string)doc["id"]!;
        var claims = Claims(doc).ToHashSet();
        foreach (var other in others.Where(o => IsExclusive(o) && (string?)o["id"] != id))
        {
            if (Claims(other).Where(claims.Contains).Select(c => (Claim?)c).FirstOrDefault() is { } clash)
            {
                throw new NgsiLdException(ErrorTypes.Conflict, "Exclusive registrations overlap",
                    $"The exclusive registration {other["id"]} already holds the attribute {clash.Attribute} of {clash.Entity} ({clash.Type}).");
            }
        }
    }

    private static bool IsExclusive(JsonObject doc) => (string?)doc["mode"] == "exclusive";

    private readonly record struct Claim(string Type, string Entity, string Attribute);

    private static IEnumerable<Claim> Claims(JsonObject doc) =>
        from info in doc["information"]!.AsArray().OfType<JsonObject>()
        from entity in (info["entities"] as JsonArray ?? []).OfType<JsonObject>()
        from attribute in new[] { info["propertyNames"], info["relationshipNames"] }.OfType<JsonArray>().SelectMany(a => a)
        select new Claim((string)entity["type"]!, (string?)entity["id"] ?? $"idPattern {(string?)entity["idPattern"]}", (string)attribute!);
}
