using Agora.Errors;
using Microsoft.Net.Http.Headers;

namespace Agora.NgsiLd;

/// The media types NGSI-LD speaks, and the negotiation between them.
internal static class MediaTypes
{
    public const string Json = "application/json";
    public const string JsonLd = "application/ld+json";
    public const string GeoJson = "application/geo+json";
    public const string MergePatch = "application/merge-patch+json";

    /// The response type for an Accept header: the acceptable type with the highest q, the client's order
    /// breaking ties; */* and application/* mean application/json. NotAcceptable (406) when none fits.
    public static string Negotiate(string? accept, bool allowGeoJson)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return Json;
        }
        if (!MediaTypeHeaderValue.TryParseList(accept.Split(','), out var ranges))
        {
            throw NotAcceptable(accept);
        }
        string? best = null;
        var bestQ = 0.0;
        foreach (var range in ranges)
        {
            var q = range.Quality ?? 1.0;
            var candidate = range.MediaType.Value?.ToLowerInvariant() switch
            {
                Json or "*/*" or "application/*" => Json,
                JsonLd => JsonLd,
                GeoJson when allowGeoJson => GeoJson,
                _ => null,
            };
            if (candidate is not null && q > bestQ)
            {
                (best, bestQ) = (candidate, q);
            }
        }
        return best ?? throw NotAcceptable(accept);
    }

    private static NgsiLdException NotAcceptable(string accept) => new(ErrorTypes.InvalidRequest, "Not acceptable",
        $"None of the media types in Accept '{accept}' can be produced; use application/json or application/ld+json.", 406);
}
