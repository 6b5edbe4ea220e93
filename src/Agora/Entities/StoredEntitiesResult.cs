using System.Text.Json;
using Agora.JsonLd;
using Agora.NgsiLd;

namespace Agora.Entities;

/// Entities answered from their stored text through EntityWriter: one entity, or a query's page as an array.
/// The same headers and @context placement as NgsiLdResult.
internal sealed class StoredEntitiesResult(IReadOnlyList<string> stored, bool page, Representation r, JsonLdContext context, string mediaType) : IResult
{
    public async Task ExecuteAsync(HttpContext http)
    {
        var inBody = NgsiLdResult.Start(http.Response, 200, context, mediaType);
        await using var writer = new Utf8JsonWriter(http.Response.BodyWriter, NgsiLdResult.WriterOptions);
        if (page)
        {
            writer.WriteStartArray();
        }
        var atContext = inBody ? context.ResponseContext : null;
        foreach (var doc in stored)
        {
            EntityWriter.Write(writer, doc, r, context, atContext);
        }
        if (page)
        {
            writer.WriteEndArray();
        }
        await writer.FlushAsync(http.RequestAborted);
    }
}
