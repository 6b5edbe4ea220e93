using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Federation;

/// Distributed operations (clauses 4.3.6 and 5.6–5.7, with their HTTP binding in 6.3.17 and 6.3.18): which
/// context sources a request goes to, and how their answers are turned back into Agora's stored form and merged
/// with what this broker holds.
internal sealed class Distributed(SourceRegistry registry, SourceClient client, Microsoft.Extensions.Options.IOptions<FederationOptions> options)
{
    public const string WarningHeader = "NGSILD-Warning";
    public const string LoopDetected = "https://uri.etsi.org/ngsi-ld/errors/LoopDetected";

    public SourceClient Client => client;

    /// Most entities a query takes from each side before its page is cut (Agora:Federation:MaxRemoteEntities).
    public int MaxRemoteEntities => options.Value.MaxRemoteEntities;

    /// The sources that may take part in a read: none with local=true, none when the request has been here
    /// before (a loop: answered from the local store, with a warning), and none whose own alias is in the Via
    /// header.
    public IReadOnlyList<ContextSource> ForRead(HttpContext http, TenantStore store, params string[] operations)
    {
        var sources = registry.Of(store);
        if (sources.Count == 0 || http.Request.Query["local"].ToString() == "true")
        {
            return [];
        }
        var candidates = Unvisited(http, sources).Where(s => operations.Any(s.Supports)).ToList();
        if (candidates.Count > 0 && client.CameBack(http.Request))
        {
            Warn(http, 199, "a registration loop was detected; answered from the local store only");
            return [];
        }
        return candidates;
    }

    /// The sources a write may go to: every mode but auxiliary (which is only ever read, clause 4.3.6.2),
    /// whether or not they support the operation (a proxied source that does not is a conflict).
    public IReadOnlyList<ContextSource> ForWrite(HttpContext http, TenantStore? store)
    {
        if (store is null || http.Request.Query["local"].ToString() == "true")
        {
            return [];
        }
        var sources = registry.Of(store);
        return sources.Count == 0 ? sources : [.. Unvisited(http, sources).Where(s => !s.Auxiliary)];
    }

    /// A write that would be forwarded again after coming back here is a loop: 508 (clause 6.3.17).
    public void CheckLoop(HttpContext http, bool forwarding)
    {
        if (forwarding && client.CameBack(http.Request))
        {
            throw new NgsiLdException(LoopDetected, "Loop detected",
                $"This request has already passed through {client.Alias} (Via: {http.Request.Headers.Via}); forwarding it again would loop.", 508);
        }
    }

    private IEnumerable<ContextSource> Unvisited(HttpContext http, IReadOnlyList<ContextSource> sources)
    {
        if (http.Request.Headers.Via.Count == 0)
        {
            return sources;
        }
        var seen = SourceClient.Pseudonyms(http.Request).ToHashSet(StringComparer.Ordinal);
        return sources.Where(s => s.Alias is null || !seen.Contains(s.Alias));
    }

    /// Adds an NGSILD-Warning to the answer (clause 6.3.17): 199 when a source did not answer or looped, 299 when
    /// it answered with an error, 111 when its answer could not be read.
    public void Warn(HttpContext http, int code, string text) =>
        http.Response.Headers.Append(WarningHeader, $"{code} {Ascii(client.Alias)} \"{Ascii(text).Replace('"', '\'')}\"");

    // A header value is ASCII: anything else in a name or a message is replaced.
    private static string Ascii(string text) => string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c : '?'));

    public void Warn(HttpContext http, Reply reply) =>
        Warn(http, reply.Status == 0 ? 199 : 299, $"context source {reply.Source.Id} {reply.Failure}");

    /// An entity as a source answered it, in Agora's stored form, or null (with a warning) when it is not an
    /// entity. A source that names no @context answers in the one it was asked in. Its system times are kept, so that merging can tell which instance is the most recent.
    public async Task<JsonObject?> ExpandAsync(HttpContext http, Reply reply, JsonNode? entity, JsonLdContext asked, Claim claim)
    {
        if (entity is not JsonObject body)
        {
            Warn(http, 111, $"context source {reply.Source.Id} answered something that is not an entity");
            return null;
        }
        try
        {
            var copy = (JsonObject)body.DeepClone();
            var contextNode = copy["@context"];
            copy.Remove("@context");
            var context = contextNode is not null ? await NgsiLdRequest.ResolveAsync(http, contextNode) : await ContextOfAsync(http, reply, asked);
            var doc = new EntityInput(context, EntityInput.Timestamp(DateTimeOffset.UtcNow)).Entity(Concise(copy));
            KeepTimes(doc, copy, context);
            if (!claim.All)
            {
                // Only what the source is registered for is taken from it (clause 4.3.6.1).
                foreach (var attribute in doc.Select(p => p.Key).Where(k => EntityMerge.IsAttribute(k) && !claim.Covers(k)).ToList())
                {
                    doc.Remove(attribute);
                }
            }
            return doc;
        }
        catch (NgsiLdException e)
        {
            Warn(http, 111, $"context source {reply.Source.Id} answered an entity Agora cannot read: {e.Title}");
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            Warn(http, 111, $"context source {reply.Source.Id} answered an entity Agora cannot read");
            return null;
        }
    }

    /// The @context a source answered in: its body's, its Link header's, else the one it was asked in.
    public async Task<JsonLdContext> ContextOfAsync(HttpContext http, Reply reply, JsonLdContext asked) =>
        reply.Body is JsonObject { } body && body["@context"] is { } node ? await NgsiLdRequest.ResolveAsync(http, node)
        : reply.Link is { } link ? await NgsiLdRequest.ResolveAsync(http, JsonValue.Create(link))
        : asked;

    // The system members of an answer are not input; they are put back once the entity has been read.
    private static JsonObject Concise(JsonObject body)
    {
        body.Remove("createdAt");
        body.Remove("modifiedAt");
        return body;
    }

    private static void KeepTimes(JsonObject doc, JsonObject body, JsonLdContext context)
    {
        foreach (var (name, value) in body)
        {
            if (doc[context.ExpandTerm(name)] is not JsonArray instances)
            {
                continue;
            }
            var given = value is JsonArray many ? many.OfType<JsonObject>().ToList() : value is JsonObject one ? [one] : [];
            foreach (var instance in instances.OfType<JsonObject>())
            {
                var source = given.FirstOrDefault(g => (string?)g["datasetId"] == (string?)instance["datasetId"]);
                // A time the source did not give is unknown, not now: such an instance loses to any dated one.
                foreach (var time in new[] { "createdAt", "modifiedAt" })
                {
                    if (source?[time] is JsonValue t && t.TryGetValue<string>(out var at) && EntityInput.IsDateTime(at))
                    {
                        instance[time] = at;
                    }
                    else
                    {
                        instance.Remove(time);
                    }
                }
            }
        }
    }
}
