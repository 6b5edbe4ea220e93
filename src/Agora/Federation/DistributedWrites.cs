using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace Agora.Federation;

/// One entity write across context sources (clauses 5.6.1–5.6.6, 5.6.17–5.6.19): the attributes an exclusive
/// or redirect source holds are forwarded to it and taken out of the local write; inclusive sources receive
/// what they are registered for as well; auxiliary sources are never written to. The answer is the local one
/// when every part succeeded, and 207 with a BatchOperationResult naming each failed part otherwise.
internal static class DistributedWrites
{
    private const string ApiRoot = "/ngsi-ld/v1";

    /// What the local part of a write is given: the attributes (expanded) it must leave to proxied sources.
    internal delegate Task<IResult> LocalWrite(IReadOnlySet<string> leftToSources);

    /// Runs a write. <paramref name="attributes"/> are the expanded attributes it touches (none: the entity as a
    /// whole); <paramref name="types"/> its expanded types when the request names them. <paramref name="body"/>
    /// is the request body as parsed (null without one); each source gets the part of it it is registered for.
    /// The body of an operation on one attribute (<paramref name="attributeBody"/>) goes to its sources whole.
    public static async Task<IResult> RunAsync(HttpContext http, Distributed distributed, TenantStore? store, string operation,
        string id, IReadOnlyCollection<string>? types, IReadOnlyCollection<string> attributes, JsonObject? body, JsonLdContext context,
        LocalWrite local, Func<IResult> forwardedOnly, JsonObject? attributeBody = null)
    {
        var sources = distributed.ForWrite(http, store);
        if (sources.Count == 0)
        {
            return await local(new HashSet<string>());
        }
        types ??= store!.Read(c => EntityRows.Find(c, id))?["type"]?.AsArray().Select(t => (string)t!).ToList();
        var matches = sources
            .Select(s => (Source: s, Claim: s.ClaimOf(id, types)))
            .Where(m => m.Claim is not null && (attributes.Count == 0 || attributes.Any(m.Claim.Covers)))
            .Select(m => (m.Source, Claim: m.Claim!))
            .ToList();
        if (matches.Count == 0)
        {
            return await local(new HashSet<string>());
        }
        distributed.CheckLoop(http, forwarding: matches.Any(m => m.Source.Supports(operation)));

        var errors = new JsonArray();
        var leftToSources = new HashSet<string>(StringComparer.Ordinal);
        var wholeEntityRemote = false;
        var sends = new List<Task<Reply>>();
        foreach (var (source, claim) in matches)
        {
            if (source.Proxied)
            {
                wholeEntityRemote |= claim.All;
                leftToSources.UnionWith(claim.Attributes);
            }
            if (!source.Supports(operation))
            {
                if (source.Proxied)
                {
                    errors.Add(Error(id, source, new NgsiLdException(ErrorTypes.Conflict, "Operation not supported by the context source",
                        $"Registration {source.Id} holds this data ({source.Mode}) but does not support {operation}.")));
                }
                continue;
            }
            var sent = body is not null ? Part(body, claim, context) : attributeBody is not null ? NgsiLdRequest.AsSent(attributeBody) : null;
            if (body is not null && sent is null)
            {
                continue;
            }
            sends.Add(distributed.Client.SendAsync(http, store!, source, new Forward(new HttpMethod(http.Request.Method), Target(http), sent, sent?.ContainsKey("@context") == true)));
        }

        IResult? localResult = null;
        var localRan = !wholeEntityRemote && (attributes.Count == 0 || !attributes.All(leftToSources.Contains))
            && (body is null || operation is "deleteEntity" || RemainsLocally(body, leftToSources, context));
        var replies = await Task.WhenAll(sends);
        var succeeded = replies.Count(r => r.Succeeded);
        if (localRan)
        {
            try
            {
                localResult = await local(leftToSources);
                succeeded++;
            }
            catch (NgsiLdException e) when (replies.Length > 0)
            {
                // An attribute this broker does not hold, but a source does and took the change, is no failure.
                if (!(e.Status == 404 && attributes.Count > 0 && replies.Any(r => r.Succeeded)))
                {
                    errors.Insert(0, Error(id, null, e));
                }
            }
        }
        foreach (var reply in replies.Where(r => !r.Succeeded || r.Status == 207))
        {
            errors.Add(Error(id, reply.Source, RemoteError(reply)));
        }
        if (errors.Count == 0)
        {
            return localResult ?? forwardedOnly();
        }
        var result = new JsonObject
        {
            ["success"] = succeeded > 0 ? new JsonArray(id) : new JsonArray(),
            ["errors"] = errors,
        };
        return new NgsiLdResult(result, context, MediaTypes.Json, 207);
    }

    /// The request's own path below the API root, with its query, as a source is to receive it.
    public static string Target(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.Path + http.Request.QueryString).ToString();
        var target = raw.StartsWith(ApiRoot, StringComparison.Ordinal) ? raw[ApiRoot.Length..] : raw;
        var query = target.IndexOf('?', StringComparison.Ordinal);
        // A trailing slash (/entities/?type=...) means the same resource; it is sent without one.
        return query < 0 ? target.TrimEnd('/') : target[..query].TrimEnd('/') + target[query..];
    }

    /// The part of a body a source is registered for: every attribute when it holds them all, else only its
    /// own (id, type, scope and @context always go along); null when none of the body's attributes are its.
    public static JsonObject? Part(JsonObject body, Claim claim, JsonLdContext context)
    {
        var sent = NgsiLdRequest.AsSent(body);
        if (claim.All)
        {
            return sent;
        }
        var attributes = sent.Select(p => p.Key).Where(k => !IsCore(k)).ToList();
        var kept = attributes.Where(a => claim.Covers(context.ExpandTerm(a))).ToList();
        if (attributes.Count > 0 && kept.Count == 0)
        {
            return null;
        }
        foreach (var a in attributes.Except(kept))
        {
            sent.Remove(a);
        }
        return sent;
    }

    /// Whether a body keeps anything for the local store once proxied attributes are taken out of it.
    public static bool RemainsLocally(JsonObject body, IReadOnlySet<string> leftToSources, JsonLdContext context)
    {
        var attributes = body.Select(p => p.Key).Where(k => !IsCore(k)).ToList();
        return attributes.Count == 0 || attributes.Any(a => !leftToSources.Contains(context.ExpandTerm(a)));
    }

    /// The body without the attributes proxied sources hold.
    public static JsonObject WithoutRemote(JsonObject body, IReadOnlySet<string> leftToSources, JsonLdContext context)
    {
        if (leftToSources.Count == 0)
        {
            return body;
        }
        var copy = (JsonObject)body.DeepClone();
        foreach (var name in copy.Select(p => p.Key).Where(k => !IsCore(k) && leftToSources.Contains(context.ExpandTerm(k))).ToList())
        {
            copy.Remove(name);
        }
        return copy;
    }

    private static bool IsCore(string key) => key is "id" or "@id" or "type" or "@type" or "scope" or "@context";

    public static JsonObject Error(string id, ContextSource? source, NgsiLdException error)
    {
        var entry = new JsonObject { ["entityId"] = id };
        if (source is not null)
        {
            entry["registrationId"] = source.Id;
        }
        entry["error"] = error.ToJson();
        return entry;
    }

    /// A source's failure as an NGSI-LD error: its own ProblemDetails when it sent one.
    public static NgsiLdException RemoteError(Reply reply)
    {
        if (reply.Body is JsonObject problem && DistributedReads.Text(problem["type"]) is { } type && DistributedReads.Text(problem["title"]) is { } title)
        {
            return new NgsiLdException(type, title, DistributedReads.Text(problem["detail"]), reply.Status);
        }
        if (reply.Status == 207)
        {
            return new NgsiLdException(ErrorTypes.InternalError, "Partial success at the context source",
                $"Registration {reply.Source.Id}: the source did only part of the operation: {Entities.Names.Shorten(reply.Body?.ToJsonString() ?? "")}", 207);
        }
        return reply.Status == 0
            ? new NgsiLdException(ErrorTypes.InternalError, "Context source unavailable", $"Registration {reply.Source.Id}: the source {reply.Failure}.", 504)
            : new NgsiLdException(ErrorTypes.InternalError, "Context source failed", $"Registration {reply.Source.Id}: the source {reply.Failure}.", reply.Status);
    }
}
