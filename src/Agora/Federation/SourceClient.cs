using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Hosting;
using Agora.NgsiLd;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Federation;

/// A request to forward to a context source: the path below its /ngsi-ld/v1, and the JSON body if any (with
/// its "@context" when the client sent JSON-LD).
internal sealed record Forward(HttpMethod Method, string PathAndQuery, JsonNode? Body = null, bool LdJson = false);

/// What a context source answered: its status (0 when it did not answer in time or could not be reached), its
/// JSON body, and the @context it names in a Link header.
internal sealed record Reply(ContextSource Source, int Status, JsonNode? Body, string? Link, string? Failure)
{
    public bool Succeeded => Status is >= 200 and < 300;
}

/// Sends distributed operations to context sources (clause 6.3.18): with the client's @context, the tenant and
/// headers of the registration, this broker added to the Via header, and the registration's timeout. Each
/// request is recorded in the registration's status (timesSent, timesFailed, lastSuccess, lastFailure).
internal sealed class SourceClient(IHttpClientFactory clients, IOptions<FederationOptions> options, IOptions<AgoraOptions> agora, TimeProvider time, ILogger<SourceClient> logger)
{
    public const string ClientName = "federation";

    // Credentials and the tenant are the client's with this broker, never a source's to receive
    // (contextSourceInfo's urn:ngsi-ld:request cannot copy them; the tenant comes from the registration).
    private static readonly HashSet<string> Private = new(StringComparer.OrdinalIgnoreCase)
        { "Authorization", "X-Api-Key", "Cookie", "Proxy-Authorization", NgsiLdRequest.TenantHeader, "Host", "Content-Length", "Content-Type", "Via" };
    private readonly FederationOptions _options = options.Value;

    /// The name this broker gives itself in Via headers.
    public string Alias { get; } = options.Value.Alias is { Length: > 0 } alias ? alias : $"agora@{Environment.MachineName}:{agora.Value.Port}";

    /// Whether a Via header names this broker: the request has been here before.
    public bool CameBack(HttpRequest request) => Pseudonyms(request).Contains(Alias, StringComparer.Ordinal);

    /// The pseudonyms (received-by) of a Via header's entries.
    public static IEnumerable<string> Pseudonyms(HttpRequest request) =>
        request.Headers.Via.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Select(entry => entry.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: >= 2 } parts ? parts[1] : entry);

    public async Task<Reply> SendAsync(HttpContext http, TenantStore store, ContextSource source, Forward forward)
    {
        using var request = new HttpRequestMessage(forward.Method, Url(source, forward.PathAndQuery));
        if (NgsiLdRequest.LinkedContext(http.Request) is { } link && !forward.LdJson)
        {
            request.Headers.TryAddWithoutValidation("Link", $"<{link}>; rel=\"{NgsiLdRequest.ContextRel}\"; type=\"{MediaTypes.JsonLd}\"");
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.Json));
        if (source.Tenant is { Length: > 0 } tenant)
        {
            request.Headers.TryAddWithoutValidation(NgsiLdRequest.TenantHeader, tenant);
        }
        foreach (var (key, value) in source.Headers)
        {
            // urn:ngsi-ld:request stands for the value of the same header in the client's request (clause 4.3.6.5).
            var text = value == "urn:ngsi-ld:request" ? http.Request.Headers[key].ToString() : value;
            if (text.Length > 0 && !Private.Contains(key))
            {
                request.Headers.TryAddWithoutValidation(key, text);
            }
        }
        var via = string.Join(", ", http.Request.Headers.Via.Where(v => !string.IsNullOrEmpty(v)).Append($"1.1 {Alias}"));
        request.Headers.TryAddWithoutValidation("Via", via);
        if (forward.Body is { } body)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, forward.LdJson ? MediaTypes.JsonLd : MediaTypes.Json);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(source.Timeout ?? _options.Timeout);
        Reply reply;
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, timeout.Token);
            var json = Parse(await response.Content.ReadAsByteArrayAsync(timeout.Token));
            var linked = response.Headers.TryGetValues("Link", out var links) ? ContextUrl(links) : null;
            var status = (int)response.StatusCode;
            reply = new Reply(source, status, json, linked, status is >= 200 and < 300 ? null : $"answered {status}");
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            reply = new Reply(source, 0, null, null, $"did not answer within {(source.Timeout ?? _options.Timeout).TotalMilliseconds:0} ms");
        }
        catch (HttpRequestException e)
        {
            reply = new Reply(source, 0, null, null, $"could not be reached ({e.Message})");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            reply = new Reply(source, 0, null, null, $"could not be read ({e.GetType().Name})");
        }
        try
        {
            await RecordAsync(store, reply);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The status of registration {Registration} could not be recorded.", source.Id);
        }
        return reply;
    }

    // A body a source sent is JSON to read only when all of it decodes: duplicate names and bad strings surface
    // on first touch, so they are touched here, and such a body counts as no JSON at all.
    private static JsonNode? Parse(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }
        try
        {
            var json = JsonNode.Parse(body);
            NgsiLdRequest.Decode(json);
            return json;
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static Uri Url(ContextSource source, string pathAndQuery) =>
        new(source.Endpoint.EndsWith("/ngsi-ld/v1", StringComparison.Ordinal) ? source.Endpoint + pathAndQuery : source.Endpoint + "/ngsi-ld/v1" + pathAndQuery);

    private static string? ContextUrl(IEnumerable<string> links)
    {
        foreach (var value in links)
        {
            foreach (var part in value.Split(','))
            {
                var open = part.IndexOf('<');
                var close = part.IndexOf('>');
                if (open >= 0 && close > open && part.Contains(NgsiLdRequest.ContextRel, StringComparison.Ordinal))
                {
                    return part[(open + 1)..close];
                }
            }
        }
        return null;
    }

    // A 404 is an answer (the source does not hold the entity), not a failure of the source (clause 6.3.17).
    private Task RecordAsync(TenantStore store, Reply reply)
    {
        var now = EntityInput.Timestamp(time.GetUtcNow());
        var failed = !reply.Succeeded && reply.Status != 404;
        return store.WriteAsync(c =>
        {
            using var command = Sql.Command(c, """
                INSERT INTO registration_status (registration_id, times_sent, times_failed, last_success, last_failure)
                VALUES (@id, 1, @failed, @success, @failure)
                ON CONFLICT (registration_id) DO UPDATE SET
                    times_sent = registration_status.times_sent + 1,
                    times_failed = registration_status.times_failed + excluded.times_failed,
                    last_success = coalesce(excluded.last_success, registration_status.last_success),
                    last_failure = coalesce(excluded.last_failure, registration_status.last_failure)
                """,
                ("@id", reply.Source.Id), ("@failed", failed ? 1 : 0), ("@success", failed ? DBNull.Value : now), ("@failure", failed ? now : DBNull.Value));
            command.ExecuteNonQuery();
            return true;
        });
    }
}
