using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.Hosting;
using Agora.JsonLd;
using Agora.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Agora.NgsiLd;

/// What every NGSI-LD request carries besides its path: the tenant, the @context (from the Link header or
/// the body) and, for writes, a JSON body that has been size-checked and parsed.
internal static class NgsiLdRequest
{
    public const string TenantHeader = "NGSILD-Tenant";
    public const string ContextRel = "http://www.w3.org/ns/json-ld#context";
    /// How every JSON body is read. A member named twice in one object is refused here, where the parser can say
    /// where: JSON leaves it open (RFC 8259: names SHOULD be unique), NGSI-LD payloads and @contexts cannot mean it.
    internal static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// The tenant a request names ("" for the default one). The answer names it back (see EchoTenant).
    public static string Tenant(HttpContext http) => http.Request.Headers[TenantHeader].ToString().Trim();

    /// Clause 6.3.14: a resource created in a tenant other than the default one is answered with the
    /// NGSILD-Tenant header. Agora names the tenant in every answer to a request that named one, errors included
    /// (a NonexistentTenant 404 says which tenant does not exist), so it is added as the answer starts, after
    /// the error handler has cleared what the endpoint set.
    public static void EchoTenant(HttpContext http)
    {
        var tenant = Tenant(http);
        // A name a response header cannot carry (only visible ASCII can) is not echoed; the request fails on it.
        if (tenant.Length > 0 && tenant.All(c => c is >= ' ' and <= '~'))
        {
            http.Response.OnStarting(() =>
            {
                http.Response.Headers[TenantHeader] = tenant;
                return Task.CompletedTask;
            });
        }
    }

    /// The active context of a @context value sent with this request, in the request's tenant.
    public static ValueTask<JsonLdContext> ResolveAsync(HttpContext http, JsonNode? context) =>
        Resolver(http).ResolveAsync(context, Tenant(http), http.RequestAborted);

    /// A route value as the client meant it: ASP.NET decodes every escape in a path but %2F (so that a
    /// segment cannot split), which leaves ids and IRIs holding '/' (https%3A%2F%2F…) half-encoded.
    public static string PathValue(string value) =>
        value.Contains('%') ? value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase) : value;

    /// Rejects query parameters the operation does not define (clause 6.3.20: InvalidRequest).
    public static void AllowParameters(HttpContext http, params ReadOnlySpan<string> allowed)
    {
        foreach (var key in http.Request.Query.Keys)
        {
            if (!allowed.Contains(key))
            {
                throw NgsiLdException.Invalid("Unknown parameter", $"'{Entities.Names.Shorten(key)}' is not a parameter of this operation.");
            }
        }
    }

    // The "@context" each JSON-LD body came with, for a distributed operation to pass on with the body.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonObject, JsonNode> BodyContexts = new();

    /// A copy of a body as the client sent it: with its "@context" again when it came as JSON-LD.
    public static JsonObject AsSent(JsonObject body)
    {
        var copy = (JsonObject)body.DeepClone();
        if (BodyContexts.TryGetValue(body, out var context))
        {
            copy["@context"] = context.DeepClone();
        }
        return copy;
    }

    /// The context of a request without a body: its Link header, or the core context.
    public static ValueTask<JsonLdContext> ContextAsync(HttpContext http)
    {
        var link = LinkedContext(http.Request);
        return link is null
            ? ValueTask.FromResult(JsonLdContext.Core)
            : ResolveAsync(http, JsonValue.Create(link));
    }

    /// Reads a JSON body of an NGSI-LD write and the context it is to be expanded with: the body's
    /// "@context" under application/ld+json, the Link header under application/json.
    public static async ValueTask<(JsonObject Body, JsonLdContext Context)> BodyAsync(HttpContext http, bool allowMergePatch = false)
    {
        var ldJson = IsLdJson(http.Request, allowMergePatch);
        var body = await ParseAsync(http) as JsonObject
            ?? throw NgsiLdException.Invalid("Invalid payload", "The body must be a JSON object.");
        return (body, await ContextOfAsync(http, body, ldJson));
    }

    /// Reads the JSON array body of a batch operation. Each element is resolved with its own context: its
    /// "@context" under application/ld+json, the Link header under application/json.
    public static async ValueTask<(JsonArray Body, bool LdJson)> ArrayBodyAsync(HttpContext http)
    {
        var ldJson = IsLdJson(http.Request, allowMergePatch: false);
        if (ldJson && http.Request.Headers.Link.Count > 0 && LinkedContext(http.Request) is not null)
        {
            throw NgsiLdException.BadRequest("Conflicting @context", "Entities sent as application/ld+json carry their own @context; a JSON-LD Link header must not be sent with them.");
        }
        var body = await ParseAsync(http) as JsonArray
            ?? throw NgsiLdException.Invalid("Invalid payload", "The body of a batch operation must be a JSON array.");
        return (body, ldJson);
    }

    /// The context of one JSON object of a payload, which loses its "@context" member in the process.
    public static async ValueTask<JsonLdContext> ContextOfAsync(HttpContext http, JsonObject body, bool ldJson)
    {
        var bodyContext = body["@context"];
        if (ldJson)
        {
            if (bodyContext is null)
            {
                throw NgsiLdException.BadRequest("Missing @context", "A body sent as application/ld+json must carry its @context.");
            }
            if (http.Request.Headers.Link.Count > 0 && LinkedContext(http.Request) is not null)
            {
                throw NgsiLdException.BadRequest("Conflicting @context", "A body sent as application/ld+json carries its own @context; a JSON-LD Link header must not be sent with it.");
            }
            body.Remove("@context");
            BodyContexts.AddOrUpdate(body, bodyContext);
            return await ResolveAsync(http, bodyContext);
        }
        if (body.ContainsKey("@context"))
        {
            throw NgsiLdException.BadRequest("Unexpected @context", "A body sent as application/json must not carry @context; put it in a Link header or send application/ld+json.");
        }
        return await ContextAsync(http);
    }

    private static bool IsLdJson(HttpRequest request, bool allowMergePatch)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value?.ToLowerInvariant() : null;
        if (mediaType != MediaTypes.JsonLd && mediaType != MediaTypes.Json && !(allowMergePatch && mediaType == MediaTypes.MergePatch))
        {
            throw new NgsiLdException(ErrorTypes.InvalidRequest, "Unsupported media type",
                $"Content-Type '{request.ContentType}' is not supported; send application/json or application/ld+json.", 415);
        }
        return mediaType == MediaTypes.JsonLd;
    }

    private static ContextResolver Resolver(HttpContext http) => http.RequestServices.GetRequiredService<ContextResolver>();

    internal static async ValueTask<JsonNode> ParseAsync(HttpContext http)
    {
        var limit = http.RequestServices.GetRequiredService<IOptions<AgoraOptions>>().Value.MaxBodyBytes;
        if (http.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        var stream = http.Request.Body;
        while (true)
        {
            var read = await stream.ReadAsync(buffer.GetMemory(8192), http.RequestAborted);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                throw TooLarge(limit);
            }
        }
        if (buffer.WrittenCount == 0)
        {
            throw NgsiLdException.Invalid("Empty body", "This operation needs a JSON body.");
        }
        try
        {
            return Parse(buffer.WrittenSpan) ?? throw NgsiLdException.Invalid("Invalid payload", "The body must be a JSON object, not null.");
        }
        catch (JsonException e)
        {
            throw Malformed(e, buffer.WrittenSpan);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // What Decode finds: a string or name escaping half of a surrogate pair ("\udc00"), which is no text.
            throw NgsiLdException.Invalid("Malformed JSON", "The body is not valid JSON: a string in it escapes an unpaired surrogate (such as \\ud800), which is no Unicode text.");
        }
    }

    /// JSON text read as every body is: a name twice in one object refused, every string decoded now. Throws
    /// JsonException for what is not JSON, ArgumentException or InvalidOperationException for an unpaired surrogate.
    internal static JsonNode? Parse(ReadOnlySpan<byte> utf8)
    {
        var node = JsonNode.Parse(utf8, documentOptions: ParseOptions);
        Decode(node);
        return node;
    }

    /// A JSON syntax error in a body, said for a person.
    internal static NgsiLdException Malformed(JsonException e, ReadOnlySpan<byte> text = default) =>
        NgsiLdException.Invalid("Malformed JSON", "The body is not valid JSON" + WhereAndWhy(e, text));

    /// Where a JSON syntax error is, as line and column counted from 1 in characters, and what is wrong in the
    /// parser's words without its advice to programmers ("Change the reader options"): " at line 1, column 6: …".
    internal static string WhereAndWhy(JsonException e, ReadOnlySpan<byte> text)
    {
        var reason = e.Message;
        foreach (var cut in (string[])[" Path: ", " LineNumber: "])
        {
            var at = reason.IndexOf(cut, StringComparison.Ordinal);
            if (at >= 0)
            {
                reason = reason[..at];
            }
        }
        reason = reason.Replace(" which is not supported in this mode", "", StringComparison.Ordinal)
            .Replace(" Change the reader options.", "", StringComparison.Ordinal).Trim();
        // The parser reports a name given twice without a position, as "Duplicate property 'x' encountered
        // during deserialization."
        if (reason.StartsWith("Duplicate property '", StringComparison.Ordinal) && reason.IndexOf('\'', 20) is var end and > 20)
        {
            reason = $"an object names the member \"{reason[20..end]}\" twice.";
        }
        return e.LineNumber is { } line && e.BytePositionInLine is { } position
            ? $" at line {line + 1}, column {Column(text, line, position)}: {reason}"
            : $": {reason}";
    }

    // The parser counts bytes within the line; a person counts characters.
    private static long Column(ReadOnlySpan<byte> text, long line, long bytePosition)
    {
        var start = 0;
        for (var l = 0L; l < line && start < text.Length; l++)
        {
            var next = text[start..].IndexOf((byte)'\n');
            start = next < 0 ? text.Length : start + next + 1;
        }
        var end = (int)Math.Min(text.Length, start + bytePosition);
        return text.IsEmpty ? bytePosition + 1 : System.Text.Encoding.UTF8.GetCharCount(text[start..end]) + 1;
    }

    // JsonNode decodes names and strings lazily, and an escaped lone surrogate ("\udc00") is valid JSON but no
    // .NET string; duplicate names, unless the parse refused them, also surface only when first touched. Left for
    // later, either throws deep in the entity code as a server error; touching everything here makes it the
    // malformed JSON that it is.
    internal static void Decode(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, value) in o)
                {
                    Decode(value);
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    Decode(item);
                }
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                v.GetValue<string>();
                break;
        }
    }

    private static NgsiLdException TooLarge(long limit) => new(ErrorTypes.BadRequestData, "Payload too large",
        $"The request body exceeds the limit of {limit} bytes (Agora:MaxBodyBytes).", 413);

    /// The URL of the Link header with the JSON-LD context relation, if any.
    public static string? LinkedContext(HttpRequest request)
    {
        var values = request.Headers.Link;
        if (values.Count == 0)
        {
            return null;
        }
        foreach (var header in values)
        {
            foreach (var link in SplitLinks(header ?? ""))
            {
                var open = link.IndexOf('<');
                var close = link.IndexOf('>');
                if (open != 0 || close < 0)
                {
                    throw NgsiLdException.BadRequest("Invalid Link header", $"'{link}' is not of the form <URL>; rel=\"{ContextRel}\".");
                }
                var parameters = link[(close + 1)..];
                if (parameters.Contains(ContextRel, StringComparison.Ordinal) || !parameters.Contains("rel=", StringComparison.Ordinal))
                {
                    var url = link[1..close].Trim();
                    // An http(s) URL, the only kind a context can be fetched from. (On Linux "/path" parses as an
                    // absolute file: URI, which went on to be fetched and failed as a 503.)
                    if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                    {
                        throw NgsiLdException.BadRequest("Invalid Link header", $"The @context link '{url}' is not an absolute http(s) URL.");
                    }
                    return url;
                }
            }
        }
        return null;
    }

    private static IEnumerable<string> SplitLinks(string header)
    {
        var start = 0;
        var inAngle = false;
        var inQuote = false;
        for (var i = 0; i < header.Length; i++)
        {
            switch (header[i])
            {
                case '<' when !inQuote: inAngle = true; break;
                case '>' when !inQuote: inAngle = false; break;
                case '"' when !inAngle: inQuote = !inQuote; break;
                case ',' when !inAngle && !inQuote:
                    yield return header[start..i].Trim();
                    start = i + 1;
                    break;
            }
        }
        var last = header[start..].Trim();
        if (last.Length > 0)
        {
            yield return last;
        }
    }
}
