using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.Hosting;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Security;

/// Holds a provider limited to entity types to those types on every write whose type can be known: the type in
/// the body of a create, replace or batch, and the stored type of an entity that is changed or deleted. A write
/// it cannot judge is refused (fail closed), so a new endpoint is safe until it is taught here.
internal static class TypeGuard
{

    /// Null when the write is within the caller's types, else what a 403 says.
    public static async Task<string?> CheckAsync(HttpContext http, Caller caller)
    {
        var allowed = caller.Types!;
        var segments = http.Request.Path.Value![AccessRules.NgsiLdBase.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        var temporal = segments.Length > 0 && Is(segments[0], "temporal");
        var path = temporal ? segments[1..] : segments;
        var method = http.Request.Method;
        var tenant = http.Request.Headers[NgsiLdRequest.TenantHeader].ToString().Trim();

        if (path.Length >= 1 && Is(path[0], "subscriptions"))
        {
            return null;
        }
        if (path is [var entities] && Is(entities, "entities") && HttpMethods.IsPost(method))
        {
            // A temporal create adds to the history of an existing entity: that entity's types count too.
            var given = await BodyTypesAsync(http, array: false);
            var existing = temporal ? StoredTypes(http, tenant, await BodyIdsAsync(http, array: false)) : [];
            return Outside(given, allowed) ?? Outside(existing, allowed);
        }
        if (path.Length >= 2 && Is(path[0], "entities"))
        {
            var id = NgsiLdRequest.PathValue(path[1]);
            var stored = StoredTypes(http, tenant, id);
            if (stored.Count == 0 && temporal)
            {
                return "The entity's type cannot be checked against the provider's entity types, so the write is refused.";
            }
            // A body that is an entity or a fragment of one (replace, merge, append, update: /entities/{id} and
            // /entities/{id}/attrs) may add types to it; the body of /attrs/{attrId} is one attribute, whose
            // "type" is an attribute type.
            var fragment = path.Length == 2 || path.Length == 3 && Is(path[2], "attrs");
            var added = fragment && !HttpMethods.IsDelete(method) ? await BodyTypesAsync(http, array: false) : [];
            return Outside(stored, allowed) ?? Outside(added, allowed);
        }
        if (!temporal && path is [var operations, var operation] && Is(operations, "entityOperations"))
        {
            var known = operation.ToLowerInvariant() switch
            {
                "create" => await BodyTypesAsync(http, array: true),
                "upsert" or "update" or "merge" => [.. await BodyTypesAsync(http, array: true), .. StoredTypes(http, tenant, await BodyIdsAsync(http))],
                "delete" => StoredTypes(http, tenant, await BodyIdsAsync(http)),
                _ => null,
            };
            if (known is not null)
            {
                return Outside(known, allowed);
            }
        }
        return $"A provider limited to entity types may not use {http.Request.Method} {http.Request.Path}: it needs write access to every entity type.";
    }

    private static bool Is(string segment, string name) => segment.Equals(name, StringComparison.OrdinalIgnoreCase);

    private static string? Outside(IEnumerable<string> types, IReadOnlySet<string> allowed) =>
        types.FirstOrDefault(t => !allowed.Contains(t)) is { } type
            ? $"Writing entities of type {type} needs the right to write that type; this provider may write {string.Join(", ", allowed)} only."
            : null;

    private static List<string> StoredTypes(HttpContext http, string tenant, params IEnumerable<string> ids)
    {
        TenantStore store;
        try
        {
            store = http.RequestServices.GetRequiredService<TenantStores>().Existing(tenant);
        }
        catch (NgsiLdException)
        {
            return []; // no such tenant, so no such entity: the operation itself answers that
        }
        // The entity's current types and those its history knows it by (it may exist in history alone).
        return store.Read(c => ids.SelectMany(id => EntityRows.TypesOf(c, id).Concat(Temporal.TemporalReader.TypesOf(c, id))).Distinct().ToList());
    }

    // The body is read here and handed on in memory, so that the endpoint reads the same bytes again; a body that
    // does not parse is left to the endpoint, which refuses it, so it can grant nothing.
    private static async Task<JsonNode?> BodyAsync(HttpContext http)
    {
        var request = http.Request;
        if (http.Items[typeof(TypeGuard)] is not byte[] bytes)
        {
            var limit = http.RequestServices.GetRequiredService<IOptions<AgoraOptions>>().Value.MaxBodyBytes;
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit)
                {
                    throw new NgsiLdException(ErrorTypes.BadRequestData, "Payload too large", $"The request body exceeds the limit of {limit} bytes (Agora:MaxBodyBytes).", 413);
                }
            }
            bytes = buffer.ToArray();
            http.Items[typeof(TypeGuard)] = bytes;
            request.Body = new MemoryStream(bytes, writable: false);
        }
        try
        {
            return JsonNode.Parse(bytes, documentOptions: NgsiLdRequest.ParseOptions);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task<List<string>> BodyTypesAsync(HttpContext http, bool array)
    {
        var body = await BodyAsync(http);
        var items = array ? (body as JsonArray)?.OfType<JsonObject>() ?? [] : body is JsonObject o ? [o] : [];
        var ldJson = (http.Request.ContentType ?? "").StartsWith(MediaTypes.JsonLd, StringComparison.OrdinalIgnoreCase);
        var resolver = http.RequestServices.GetRequiredService<ContextResolver>();
        var types = new List<string>();
        foreach (var item in items)
        {
            var names = TypeNames(item);
            if (names.Count == 0)
            {
                continue;
            }
            var context = ldJson && item["@context"] is { } own
                ? await NgsiLdRequest.ResolveAsync(http, own)
                : await NgsiLdRequest.ContextAsync(http);
            types.AddRange(names.Select(context.ExpandTerm));
        }
        return types;
    }

    private static List<string> TypeNames(JsonObject item)
    {
        var names = new List<string>();
        foreach (var key in (string[])["type", "@type"])
        {
            switch (item[key])
            {
                case JsonValue v when v.TryGetValue<string>(out var name):
                    names.Add(name);
                    break;
                case JsonArray a:
                    names.AddRange(a.OfType<JsonValue>().Select(x => x.TryGetValue<string>(out var n) ? n : null).OfType<string>());
                    break;
            }
        }
        return names;
    }

    private static async Task<List<string>> BodyIdsAsync(HttpContext http, bool array = true)
    {
        var parsed = await BodyAsync(http);
        var body = array ? parsed as JsonArray ?? [] : parsed is JsonObject one ? [one.DeepClone()] : [];
        return body.Select(item => item switch
        {
            JsonValue v when v.TryGetValue<string>(out var id) => id,
            JsonObject o => o["id"] is JsonValue v && v.TryGetValue<string>(out var id) ? id : o["@id"] is JsonValue w && w.TryGetValue<string>(out var id2) ? id2 : null,
            _ => null,
        }).OfType<string>().ToList();
    }
}
