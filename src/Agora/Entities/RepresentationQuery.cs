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
        HashSet<string>? picked = null;
        if (attrs.Count > 0)
        {
            picked = [.. EntityMembers, .. attrs.Select(a => Expand(a, context))];
        }
        else if (pick is not null)
        {
            picked = [.. pick.Select(a => Member(a.Name, context))];
        }
        HashSet<string>? omitted = omit is null ? null : [.. omit.Select(a => Member(a.Name, context))];
        if (picked is not null && omitted is not null && picked.Overlaps(omitted))
        {
            throw NgsiLdException.BadRequest("Conflicting parameters", "A member cannot be both picked and omitted.");
        }
        return new Representation(format, sysAttrs, picked, omitted, LanguagePreference.Parse(query["lang"]));
    }

    private static string Member(string name, JsonLdContext context) => EntityMembers.Contains(name) ? name : Expand(name, context);

    public static string Expand(string name, JsonLdContext context)
    {
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
