using Agora.Errors;
using Agora.JsonLd;

namespace Agora.Entities;

/// Reads the representation parameters of a retrieval: options, format, attrs, pick, omit, lang.
internal static class RepresentationQuery
{
    private static readonly string[] EntityMembers = ["id", "type", "scope"];

    public static Representation Parse(IQueryCollection query, JsonLdContext context)
    {
        var format = Format.Normalized;
        var sysAttrs = false;
        foreach (var option in List(query, "options").Concat(List(query, "format")))
        {
            switch (option)
            {
                case "keyValues" or "simplified": format = Format.KeyValues; break;
                case "concise": format = Format.Concise; break;
                case "normalized": format = Format.Normalized; break;
                case "sysAttrs": sysAttrs = true; break;
                default:
                    throw NgsiLdException.Invalid("Invalid options", $"'{option}' is not an option of this operation (keyValues, concise, normalized, sysAttrs).");
            }
        }

        var attrs = List(query, "attrs");
        var pick = query["pick"] is { Count: > 0 } p ? Projection.Parse(p.ToString(), "pick") : null;
        var omit = query["omit"] is { Count: > 0 } o ? Projection.Parse(o.ToString(), "omit") : null;
        if (attrs.Count > 0 && (pick is not null || omit is not null))
        {
            throw NgsiLdException.BadRequest("Conflicting parameters", "attrs cannot be used with pick or omit; pick and omit supersede attrs.");
        }
        var join = query["join"].ToString() switch
        {
            "" => Join.None,
            "inline" => Join.Inline,
            "flat" => Join.Flat,
            var other => throw NgsiLdException.BadRequest("Invalid join", $"join is inline or flat, not '{Names.Shorten(other)}'."),
        };
        var joinLevel = query["joinLevel"].ToString() is { Length: > 0 } level
            ? int.TryParse(level, out var l) && l is >= 1 and <= 16 ? l : throw NgsiLdException.BadRequest("Invalid joinLevel", "joinLevel is a whole number from 1 to 16.")
            : 1;
        var datasetIds = List(query, "datasetId");
        foreach (var d in datasetIds.Where(d => d != Representation.DefaultInstance))
        {
            Names.CheckUri(d, "datasetId");
        }
        var baseline = new Representation(format, sysAttrs, Lang: LanguagePreference.Parse(query["lang"]), Join: join, JoinLevel: joinLevel,
            DatasetIds: datasetIds.Count > 0 ? datasetIds.ToHashSet(StringComparer.Ordinal) : null);
        if (attrs.Count > 0)
        {
            return baseline with { Pick = new HashSet<string>([.. EntityMembers, .. attrs.Select(a => Expand(a, context))]) };
        }
        return Projected(baseline, pick, omit, context);
    }

    // pick keeps the members it names; omit drops them, except those followed by braces, which only carry the
    // projection of the entity linked through them.
    private static Representation Projected(Representation baseline, IReadOnlyList<Projection>? pick, IReadOnlyList<Projection>? omit, JsonLdContext context)
    {
        HashSet<string>? picked = pick is null ? null : [.. pick.Select(a => Member(a.Name, context))];
        HashSet<string>? omitted = omit is null ? null : [.. omit.Where(a => a.Nested.Count == 0).Select(a => Member(a.Name, context))];
        if (picked is not null && omitted is not null && picked.Overlaps(omitted))
        {
            throw NgsiLdException.BadRequest("Conflicting parameters", "A member cannot be both picked and omitted.");
        }
        var linked = new Dictionary<string, Representation>(StringComparer.Ordinal);
        var plain = baseline with { Pick = null, Omit = null };
        foreach (var nested in (pick ?? []).Where(a => a.Nested.Count > 0))
        {
            linked[Member(nested.Name, context)] = Projected(plain, nested.Nested, null, context);
        }
        foreach (var nested in (omit ?? []).Where(a => a.Nested.Count > 0))
        {
            linked[Member(nested.Name, context)] = Projected(plain, null, nested.Nested, context);
        }
        return baseline with { Pick = picked, Omit = omitted, Linked = linked };
    }

    private static string Member(string name, JsonLdContext context) => EntityMembers.Contains(name) ? name : Expand(name, context);

    public static string Expand(string name, JsonLdContext context)
    {
        if (name is "id" or "type" or "scope" or "@id" or "@type")
        {
            throw NgsiLdException.BadRequest("Invalid attribute name", $"'{name}' is an entity member, not an attribute.");
        }
        Names.CheckAttributeName(name);
        return context.ExpandTerm(name);
    }

    public static List<string> List(IQueryCollection query, string name)
    {
        var values = query[name];
        var list = new List<string>();
        foreach (var value in values)
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                if (item.Length == 0)
                {
                    throw NgsiLdException.BadRequest($"Invalid {name}", $"'{value}' has an empty item; {name} is a comma-separated list.");
                }
                list.Add(item);
            }
        }
        return list;
    }
}
