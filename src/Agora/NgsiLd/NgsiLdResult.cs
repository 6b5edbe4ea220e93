using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.NgsiLd;

/// An NGSI-LD payload in the negotiated media type: application/json names its @context in a Link header,
/// application/ld+json carries it in the body (in each element of an array), application/geo+json does both
/// the Link header and, for a Feature, nothing more.
internal sealed class NgsiLdResult(JsonNode body, JsonLdContext context, string mediaType, int status = 200) : IResult
{
    // Relaxed escaping: non-ASCII text (street names, languageMaps) goes out as UTF-8, not \uXXXX.
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public async Task ExecuteAsync(HttpContext http)
    {
        if (Start(http.Response, status, context, mediaType))
        {
            AttachContext(body, context);
        }
        else if (mediaType == MediaTypes.GeoJson && body is JsonObject geo)
        {
            // GeoJSON has no room for a Link-only context convention: a Feature or FeatureCollection carries
            // its @context at the top (clause 6.3.15), and the Link header is given as well.
            geo["@context"] = context.ResponseContext;
        }
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, WriterOptions);
        body.WriteTo(writer);
        await writer.FlushAsync(http.RequestAborted);
    }

    /// Sets the status and media type, and names the @context in a Link header unless the body carries it
    /// (application/ld+json): returns whether it must.
    internal static bool Start(HttpResponse response, int status, JsonLdContext context, string mediaType)
    {
        response.StatusCode = status;
        response.ContentType = mediaType;
        if (mediaType == MediaTypes.JsonLd)
        {
            return true;
        }
        // Links are appended, not set: a paginated answer already carries its prev/next links.
        response.Headers.Append("Link", $"<{context.LinkUrl}>; rel=\"{NgsiLdRequest.ContextRel}\"; type=\"{MediaTypes.JsonLd}\"");
        return false;
    }

    // ResponseContext hands out a fresh node each time, so each element gets its own without cloning here.
    private static void AttachContext(JsonNode body, JsonLdContext context)
    {
        switch (body)
        {
            case JsonObject o:
                o["@context"] = context.ResponseContext;
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    if (item is JsonObject element)
                    {
                        element["@context"] = context.ResponseContext;
                    }
                }
                break;
        }
    }
}
