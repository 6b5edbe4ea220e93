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
                    throw NgsiLdException.BadRequest("Invalid options", $"'{option}' is not an option of this operation (keyValues, concise, normalized, sysAttrs).");
            }
        }

        var attrs = List(query, "attrs");
        var pick = List(query, "pick");
        var omit = List(query, "omit");
        if (attrs.Count > 0 && pick.Count > 0)
        {
            throw NgsiLdException.BadRequest("Conflicting parameters", "attrs and pick cannot be used together; pick supersedes attrs.");
        }
        if (pick.Count > 0 && omit.Count > 0)
        {
            throw NgsiLdException.BadRequest("Conflicting parameters", "pick and omit cannot be used together.");
        }
        HashSet<string>? picked = null;
        if (attrs.Count > 0)
        {
            picked = [.. EntityMembers, .. attrs.Select(a => Expand(a, context))];
        }
        else if (pick.Count > 0)
        {
            picked = [.. pick.Select(a => EntityMembers.Contains(a) ? a : Expand(a, context))];
        }
        HashSet<string>? omitted = omit.Count > 0 ? [.. omit.Select(a => EntityMembers.Contains(a) ? a : Expand(a, context))] : null;
        return new Representation(format, sysAttrs, picked, omitted, LanguagePreference.Parse(query["lang"]));
    }

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
