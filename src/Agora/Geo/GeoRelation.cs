using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Errors;

namespace Agora.Geo;

/// The georel of clause 4.10: how an entity's geometry must relate to the query geometry.
internal enum GeoRelation
{
    /// Within MaxDistance and/or beyond MinDistance metres of the query point.
    Near,
    /// The entity's geometry is within the query geometry.
    Within,
    /// The entity's geometry contains the query geometry.
    Contains,
    Intersects,
    Equals,
    Disjoint,
    Overlaps,
}

/// A parsed georel: `near;maxDistance==N`, `near;minDistance==N` (both together are also accepted), or a bare
/// topological relation.
internal sealed record GeoRel(GeoRelation Relation, double? MaxDistance, double? MinDistance)
{
    private const string Expected =
        "expected one of near;maxDistance==<metres>, near;minDistance==<metres>, within, contains, intersects, equals, disjoint, overlaps";

    public static GeoRel Parse(string text, string parameter)
    {
        var parts = text.Split(';');
        GeoRelation? relation = parts[0] switch
        {
            "near" => GeoRelation.Near,
            "within" => GeoRelation.Within,
            "contains" => GeoRelation.Contains,
            "intersects" => GeoRelation.Intersects,
            "equals" => GeoRelation.Equals,
            "disjoint" => GeoRelation.Disjoint,
            "overlaps" => GeoRelation.Overlaps,
            _ => null,
        };
        if (relation is null)
        {
            throw Invalid(parameter, $"'{Shown(text)}' is not a georel: {Expected}.");
        }
        if (relation != GeoRelation.Near)
        {
            return parts.Length == 1
                ? new GeoRel(relation.Value, null, null)
                : throw Invalid(parameter, $"'{Shown(text)}' is not a georel: only near takes modifiers ({Expected}).");
        }
        double? max = null, min = null;
        foreach (var modifier in parts.AsSpan(1))
        {
            var eq = modifier.IndexOf("==", StringComparison.Ordinal);
            var name = eq < 0 ? modifier : modifier[..eq];
            var value = eq < 0 ? null : Distance(modifier[(eq + 2)..]);
            if (value is null)
            {
                throw Invalid(parameter, $"'{Shown(text)}': the near modifier '{Shown(modifier)}' must read maxDistance==<metres> or minDistance==<metres>, with a non-negative number of metres.");
            }
            switch (name)
            {
                case "maxDistance" when max is null:
                    max = value;
                    break;
                case "minDistance" when min is null:
                    min = value;
                    break;
                default:
                    throw Invalid(parameter, $"'{Shown(text)}': '{Shown(name)}' is not a near modifier, or is repeated; near takes maxDistance and/or minDistance once each.");
            }
        }
        return max is null && min is null
            ? throw Invalid(parameter, $"'{Shown(text)}': near needs a distance, as in near;maxDistance==1000 (metres).")
            : new GeoRel(GeoRelation.Near, max, min);
    }

    private static double? Distance(string text) =>
        // No sign, no thousands separators, no white space: a plain decimal, as the ABNF's number.
        text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] == '.')
        && double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var d)
        && double.IsFinite(d)
            ? d
            : null;

    public override string ToString() => Relation switch
    {
        GeoRelation.Near => "near" + (MaxDistance is { } max ? ";maxDistance==" + max.ToString("R", CultureInfo.InvariantCulture) : "")
            + (MinDistance is { } min ? ";minDistance==" + min.ToString("R", CultureInfo.InvariantCulture) : ""),
        _ => Relation.ToString().ToLowerInvariant(),
    };

    internal static NgsiLdException Invalid(string parameter, string detail) =>
        NgsiLdException.BadRequest("Invalid geo-query", $"The '{parameter}' parameter is invalid: {detail}");

    internal static string Shown(string text) => Entities.Names.Shorten(text);

    internal static string Shown(JsonNode? node)
    {
        try
        {
            return node is null ? "null" : Shown(node.ToJsonString());
        }
        catch (ArgumentException)
        {
            // A hand-built node may hold text that is not valid UTF-16, which JSON cannot carry.
            return "(a value that is not valid JSON text)";
        }
    }
}
