using Agora.Storage;
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.Hosting;
using Agora.NgsiLd;
using Microsoft.Extensions.Options;

namespace Agora.JsonLd;

/// Turns a request's @context (a URL, an object, an array or nothing) into an active context. Every request goes
/// through here, so a context seen before is answered from memory: keyed by its tenant and its URL, or its JSON text
/// when inline, since a tenant's own contexts (Hosted, ImplicitlyCreated) are seen by that tenant alone.
/// Each call counts one use of the stored contexts it relies on (numberOfHits).
internal sealed class ContextResolver
{
    public const string HttpClientName = "jsonld";

    private const int MaxActiveContexts = 4096;
    private const int MaxDocumentBytes = 4 * 1024 * 1024;

    private readonly IHttpClientFactory httpClients;
    private readonly AgoraOptions options;
    private readonly ILogger<ContextResolver> logger;
    private readonly ConcurrentDictionary<(string Tenant, string Key), JsonLdContext> active = new();
    private readonly ConcurrentDictionary<string, Task<StoredContext>> fetches = new(StringComparer.Ordinal);

    public ContextResolver(IHttpClientFactory httpClients, IOptions<AgoraOptions> options, TenantStores stores, ILogger<ContextResolver> logger)
    {
        this.httpClients = httpClients;
        this.options = options.Value;
        this.logger = logger;
        Store = new ContextStore(this.options.Data, stores);
    }

    internal ContextStore Store { get; }

    /// The active context of a request of this tenant ("" for the default one).
    public ValueTask<JsonLdContext> ResolveAsync(JsonNode? context, string tenant, CancellationToken ct)
    {
        string key;
        if (context is null)
        {
            return ValueTask.FromResult(JsonLdContext.Core);
        }
        if (context is JsonValue value && value.TryGetValue<string>(out var url))
        {
            if (url == JsonLdContext.CoreUrl)
            {
                return ValueTask.FromResult(JsonLdContext.Core);
            }
            key = url;
        }
        else
        {
            key = context.ToJsonString();
        }
        if (active.TryGetValue((tenant, key), out var known) && known.IsCurrent(DateTimeOffset.UtcNow))
        {
            known.CountUse();
            return ValueTask.FromResult(known);
        }
        return new ValueTask<JsonLdContext>(BuildAsync(tenant, key, context, ct));
    }

    private async Task<JsonLdContext> BuildAsync(string tenant, string key, JsonNode context, CancellationToken ct)
    {
        var processor = new ContextProcessor((url, token) => LoadAsync(url, tenant, token));
        await processor.ProcessAsync(context, ct);
        var linkUrl = context switch
        {
            JsonValue v when v.TryGetValue<string>(out var url) => url,
            JsonArray { Count: 1 } a when a[0] is JsonValue v && v.TryGetValue<string>(out var url) => url,
            _ => null,
        };
        var result = new JsonLdContext(processor.Terms, processor.Vocab, processor.Core, context.DeepClone(), linkUrl,
            linkUrl is null ? new ImplicitContext(Store, tenant, ImplicitIdOf(tenant, key)) : null, [.. processor.Sources]);
        if (active.Count >= MaxActiveContexts)
        {
            // Crude but bounded: distinct contexts are few in practice, so a full cache means someone is making
            // them up; starting over costs a re-processing each, never a wrong answer.
            active.Clear();
        }
        active[(tenant, key)] = result;
        result.CountUse();
        return result;
    }

    /// The localId of an inline context's ImplicitlyCreated copy: derived from its text, so the same inline context
    /// always gets the same id, across restarts too. Another tenant's copy of the same text is its own, under another
    /// id (the tenant is hashed with the text; neither a tenant name nor compact JSON text holds a newline).
    internal static string ImplicitIdOf(string tenant, string contextJson) =>
        ImplicitIdOf(tenant.Length == 0 ? contextJson : tenant + "\n" + contextJson);

    /// The localId of a Cached copy of the document at a URL, shared by every tenant.
    internal static string ImplicitIdOf(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));

    private async ValueTask<LoadedContext> LoadAsync(string url, string tenant, CancellationToken ct)
    {
        if (Store.Served(url, tenant) is { } served)
        {
            return new LoadedContext(served.Context, served);
        }
        var cached = Store.CachedByUrl(url);
        if (cached is not null && cached.IsFresh(DateTimeOffset.UtcNow))
        {
            return new LoadedContext(cached.Context, cached);
        }
        try
        {
            var fresh = await FetchAsync(url, ct);
            return new LoadedContext(fresh.Context, fresh);
        }
        catch (NgsiLdException e) when (cached is not null && e.Type == ErrorTypes.LdContextNotAvailable)
        {
            logger.LogWarning("Refreshing the @context {Url} failed ({Detail}); the cached copy is used meanwhile.", url, e.Detail);
            cached.DeferRefresh(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1));
            return new LoadedContext(cached.Context, cached);
        }
    }

    /// Fetches a remote context now (also for DELETE ?reload=true) and stores it as Cached. Concurrent requests for
    /// the same URL share one fetch; the fetch has its own timeout, so no request waits longer than that.
    internal async Task<StoredContext> FetchAsync(string url, CancellationToken ct)
    {
        var fetch = fetches.GetOrAdd(url, u => Task.Run(() => FetchAndStoreAsync(u), CancellationToken.None));
        try
        {
            return await fetch.WaitAsync(ct);
        }
        finally
        {
            if (fetch.IsCompleted)
            {
                fetches.TryRemove(new KeyValuePair<string, Task<StoredContext>>(url, fetch));
            }
        }
    }

    private async Task<StoredContext> FetchAndStoreAsync(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            // Not a server that could not be reached but a URL no server answers: the request's error.
            throw NgsiLdException.BadRequest("Invalid @context", $"The @context '{Entities.Names.Shorten(url)}' is not an http(s) URL.");
        }
        JsonNode? document;
        using (var timeout = new CancellationTokenSource(options.ContextFetchTimeout))
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/ld+json"));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.9));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*", 0.1));
                using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (!response.IsSuccessStatusCode)
                {
                    throw NotAvailable(url, $"the server answered {(int)response.StatusCode}");
                }
                await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
                var buffer = new MemoryStream();
                var chunk = new byte[16384];
                int read;
                while ((read = await body.ReadAsync(chunk, timeout.Token)) > 0)
                {
                    if (buffer.Length + read > MaxDocumentBytes)
                    {
                        throw NotAvailable(url, $"the document is larger than {MaxDocumentBytes} bytes");
                    }
                    buffer.Write(chunk, 0, read);
                }
                document = Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), url);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw NotAvailable(url, $"it did not arrive within {options.ContextFetchTimeout.TotalSeconds:0.###} s");
            }
            catch (HttpRequestException e)
            {
                throw NotAvailable(url, e.Message);
            }
        }
        if (document is not JsonObject o || !o.TryGetPropertyValue("@context", out var context) || context is null)
        {
            throw NotAvailable(url, "the document has no \"@context\" member");
        }
        var now = DateTimeOffset.UtcNow;
        var previous = Store.CachedByUrl(url);
        var stored = new StoredContext(ImplicitIdOf(url), url, ContextKind.Cached, "", context.DeepClone(),
            previous?.CreatedAt ?? now, now + options.ContextCacheLifetime, previous?.Hits ?? 0);
        Store.Add(stored);
        return stored;
    }

    private static JsonNode? Parse(ReadOnlySpan<byte> document, string url)
    {
        try
        {
            return NgsiLdRequest.Parse(document);
        }
        catch (JsonException e)
        {
            throw NotAvailable(url, "the document is not JSON" + NgsiLdRequest.WhereAndWhy(e, document).TrimEnd('.'));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw NotAvailable(url, "the document escapes an unpaired surrogate, which is no Unicode text");
        }
    }

    private static NgsiLdException NotAvailable(string url, string why) =>
        new(ErrorTypes.LdContextNotAvailable, "@context not available", $"The @context {url} could not be retrieved: {why}.");
}
