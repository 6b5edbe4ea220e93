using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Errors;

namespace Agora.Entities;

/// The `lang` parameter (clause 4.15): language tags in order of preference, with q-values as in
/// Accept-Language; "*" accepts any.
internal sealed class LanguagePreference
{
    private readonly List<string> _tags;

    private LanguagePreference(List<string> tags) => _tags = tags;

    public static LanguagePreference? Parse(string? lang)
    {
        if (string.IsNullOrWhiteSpace(lang))
        {
            return null;
        }
        var ranked = new List<(string Tag, double Q, int Order)>();
        var order = 0;
        foreach (var part in lang.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(';', StringSplitOptions.TrimEntries);
            var q = 1.0;
            if (pieces.Length > 1 && (!pieces[1].StartsWith("q=", StringComparison.Ordinal)
                || !double.TryParse(pieces[1][2..], NumberStyles.Float, CultureInfo.InvariantCulture, out q) || q is < 0 or > 1))
            {
                throw NgsiLdException.BadRequest("Invalid lang", $"'{part}' is not a language range with an optional q-value.");
            }
            if (pieces[0] != "*" && !pieces[0].All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                throw NgsiLdException.BadRequest("Invalid lang", $"'{pieces[0]}' is not a language tag.");
            }
            ranked.Add((pieces[0], q, order++));
        }
        return new LanguagePreference([.. ranked.Where(r => r.Q > 0).OrderByDescending(r => r.Q).ThenBy(r => r.Order).Select(r => r.Tag)]);
    }

    /// The best string of a languageMap and the tag it was found under: an exact tag, then a prefix match,
    /// then "@none", then the first entry.
    public (JsonNode? Text, string Tag) Select(JsonObject languageMap)
    {
        foreach (var tag in _tags)
        {
            if (tag == "*")
            {
                break;
            }
            foreach (var (key, value) in languageMap)
            {
                if (string.Equals(key, tag, StringComparison.OrdinalIgnoreCase)
                    || key.StartsWith(tag + "-", StringComparison.OrdinalIgnoreCase))
                {
                    return (value?.DeepClone(), key);
                }
            }
        }
        if (languageMap["@none"] is { } none)
        {
            return (none.DeepClone(), "@none");
        }
        var first = languageMap.FirstOrDefault();
        return (first.Value?.DeepClone(), first.Key ?? "@none");
    }
}
